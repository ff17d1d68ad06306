/**
 * One event-stream connection that survives disconnects: the credential travels in the
 * `Sec-WebSocket-Protocol` offer (`bearer, <key>`) or, for a single sign-on session, as the HttpOnly
 * session cookie the browser sends itself; never in the URL, and after a drop it reconnects and
 * subscribes again with `since` = the last event id it delivered, so the server replays what was missed
 * (no gap, no duplicate). A 4001 close (revoked or expired credential) is final.
 */
export interface LiveEvent {
  id: string;
  type: string;
  ts: string;
  actor?: { type?: string; id?: string };
  data?: Record<string, unknown>;
}

export interface LiveFilter {
  types: string[];
  user_id: string;
  agent_id: string;
}

export type LiveState =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'reconnecting'; reason: string }
  | { state: 'closed'; reason: string };

export interface LiveHandlers {
  onEvent(event: LiveEvent): void;
  onState(state: LiveState): void;
  /** An error frame (a refused subscription, a bad filter). */
  onError(message: string): void;
}

const SUBSCRIPTION = 'console';
const MAX_BACKOFF_MS = 10_000;

export class LiveSocket {
  private socket: WebSocket | undefined;
  private lastId: string | undefined;
  private stopped = false;
  private suspended = false;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly path: string,
    private readonly token: string,
    private filter: LiveFilter,
    private readonly handlers: LiveHandlers,
  ) {
    this.open();
  }

  /** The id replay resumes from after a reconnect. */
  get resumeFrom(): string | undefined {
    return this.lastId;
  }

  /** New filters apply from now on (the subscription is replaced; no replay of older events). */
  setFilter(filter: LiveFilter): void {
    this.filter = filter;
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.send({ op: 'unsubscribe', id: SUBSCRIPTION });
    this.subscribe(undefined);
  }

  /** Closes the connection until `connect()`; events meanwhile are replayed then (resume from the last id). */
  disconnect(): void {
    this.suspended = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000, 'disconnected');
  }

  connect(): void {
    if (!this.suspended) return;
    this.suspended = false;
    this.attempts = 0;
    this.open();
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000, 'signed out');
  }

  private open(): void {
    this.handlers.onState({ state: 'connecting' });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    // An empty token is a single sign-on session: the browser sends its HttpOnly cookie with the upgrade.
    const offer = this.token === '' ? [] : ['bearer', this.token];
    const socket = new WebSocket(`${scheme}://${location.host}${this.path}`, offer);
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      // 'live' is shown once the server confirms the subscription: from then on no event is missed.
      this.subscribe(this.lastId);
    };
    socket.onmessage = (message: MessageEvent<string>) => this.receive(message.data);
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stopped) return;
      if (this.suspended) {
        this.handlers.onState({ state: 'closed', reason: 'disconnected' });
        return;
      }
      if (close.code === 4001) {
        this.handlers.onState({ state: 'closed', reason: close.reason || 'credential revoked or expired' });
        return;
      }
      const delay = Math.min(MAX_BACKOFF_MS, this.attempts === 0 ? 0 : 500 * 2 ** this.attempts);
      this.attempts++;
      const reason = close.reason || (close.code === 1006 ? 'connection lost' : `closed (${close.code})`);
      this.handlers.onState({ state: 'reconnecting', reason });
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  private subscribe(since: string | undefined): void {
    const { types, user_id, agent_id } = this.filter;
    this.send({
      op: 'subscribe',
      id: SUBSCRIPTION,
      ...(types.length > 0 ? { types } : {}),
      ...(user_id ? { user_id } : {}),
      ...(agent_id ? { agent_id } : {}),
      ...(since ? { since } : {}),
    });
  }

  private send(frame: unknown): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private receive(raw: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    if ('op' in frame) {
      const control = frame as { op: string; message?: string; code?: string };
      if (control.op === 'subscribed') this.handlers.onState({ state: 'live' });
      if (control.op === 'error')
        this.handlers.onError(`${control.code ?? 'error'}: ${control.message ?? ''}`);
      return;
    }
    const event = frame as LiveEvent;
    // Ids only grow: one at or before the last delivered is a repeat and is dropped.
    if (this.lastId && compareIds(event.id, this.lastId) <= 0) return;
    this.lastId = event.id;
    this.handlers.onEvent(event);
  }
}

/** Orders stream ids `<ms>-<seq>`. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
