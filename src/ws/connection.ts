import type * as uWS from 'uWebSockets.js';
import type { Logger } from '../log.js';
import { isConnectionError } from '../redis/clients.js';
import { CLOSE, type CloseReason } from './close-codes.js';
import type { EventEndpoint, Grant } from './endpoints.js';
import type { EventView } from '../memory/event-view.js';
import type { Fanout } from './fanout.js';
import { frames, type ErrorCode } from './frames.js';
import { parseClientMessage, type SubscribeMessage } from './protocol.js';
import { Delivery, type Outlet } from './resume.js';
import type { StreamStats } from './stream-stats.js';
import { newSubscription, type Subscription } from './subscription.js';

/** Limits of the event stream (MNEMO_WS_* variables). */
export interface EventLimits {
  maxPayloadBytes: number;
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
  maxSocketsPerCredential: number;
  maxSubscriptionsPerSocket: number;
}

/** Typed per-socket user data, set at upgrade; `connection` is created in `open`. */
export interface SocketData {
  grant: Grant;
  endpoint: EventEndpoint;
  /** Kept in memory only, to re-verify the credential after a lost invalidation (never logged). */
  token: string;
  /**
   * An invalidation arrived while the credential was being looked up: it may have been about this very
   * credential, before the socket existed to be closed, so it is checked again once open.
   */
  recheck: boolean;
  connection?: EventConnection;
}

/** uWS `send` results. */
const SENT = 1;
const DROPPED = 2;
/** Events read from the stream per round trip while replaying. */
const REPLAY_PAGE_SIZE = 256;

/**
 * One event socket: parses client messages, owns the socket's Delivery (resume.ts), and is its Outlet.
 * Every write goes through `send`, which enforces the backpressure limit: a socket whose queue grows past
 * MNEMO_WS_MAX_BACKPRESSURE_BYTES is closed with 4008 (resume from your last id) instead of stalling
 * others or growing without bound. Replay pauses at half that limit and continues on `drain`.
 */
export class EventConnection implements Outlet {
  closed = false;
  private delivery: Delivery | undefined;
  private drainWaiters: (() => void)[] = [];
  private lastAssignedId = 0;

  constructor(
    private readonly ws: uWS.WebSocket<SocketData>,
    readonly grant: Grant,
    private readonly fanout: Fanout,
    private readonly limits: EventLimits,
    private readonly log: Logger,
    private readonly stats: StreamStats,
  ) {}

  onMessage(message: ArrayBuffer, isBinary: boolean): void {
    if (isBinary) {
      this.error('invalid_message', 'Binary frames are not accepted: send JSON text');
      return;
    }
    if (message.byteLength > this.limits.maxPayloadBytes) {
      this.error('message_too_large', `Messages are limited to ${this.limits.maxPayloadBytes} bytes`);
      return;
    }
    // uWS neuters the buffer when this callback returns: parse it now.
    const parsed = parseClientMessage(new Uint8Array(message));
    if (!parsed.ok) {
      this.error(parsed.code, parsed.message);
      return;
    }
    const msg = parsed.message;
    try {
      switch (msg.op) {
        case 'ping':
          this.send(frames.pong);
          return;
        case 'subscribe':
          this.subscribe(msg);
          return;
        case 'unsubscribe':
          if (this.delivery?.unsubscribe(msg.id)) this.send(frames.unsubscribed(msg.id));
          else this.error('unknown_subscription', `No subscription ${msg.id} on this socket`, msg.id);
          return;
      }
    } catch (err) {
      this.log.error({ err, op: msg.op }, 'event socket message failed');
      this.error('internal', 'Internal server error');
    }
  }

  onDrain(): void {
    if (this.congested()) return;
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /** The socket is gone (uWS close handler): stop everything it had going. */
  onClosed(): void {
    this.closed = true;
    for (const wake of this.drainWaiters.splice(0)) wake();
    if (this.delivery) {
      this.delivery.dispose();
      this.fanout.leave(this.grant.workspace, this.delivery);
    }
  }

  /** Closes with a close frame; uWS runs the close handler (and so `onClosed`) before this returns. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.ws.end(reason.code, reason.reason);
  }

  private subscribe(msg: SubscribeMessage): void {
    if ((this.delivery?.size ?? 0) >= this.limits.maxSubscriptionsPerSocket) {
      const max = this.limits.maxSubscriptionsPerSocket;
      this.error('too_many_subscriptions', `A socket may hold at most ${max} subscriptions`, msg.id);
      return;
    }
    const id = msg.id ?? this.assignId();
    if (this.delivery?.has(id)) {
      this.error('duplicate_subscription', `Subscription ${id} already exists on this socket`, id);
      return;
    }
    this.delivery ??= this.fanout.join(
      this.grant.workspace,
      (source) =>
        new Delivery(source, this, {
          pageSize: REPLAY_PAGE_SIZE,
          maxBufferedBytes: this.limits.maxBackpressureBytes,
          permits: this.grant.permits,
        }),
    );
    const spec = { types: msg.types, user_id: msg.user_id, agent_id: msg.agent_id };
    const result = this.delivery.subscribe(newSubscription(id, spec, msg.since));
    if (!result.ok) this.error(result.code, result.message, id);
  }

  private assignId(): string {
    let id: string;
    do id = `s${++this.lastAssignedId}`;
    while (this.delivery?.has(id));
    return id;
  }

  private error(code: ErrorCode, message: string, subscription?: string): void {
    this.send(frames.error(code, message, subscription));
  }

  private send(data: string | Buffer): void {
    if (this.closed) return;
    const status = this.ws.send(data, false, false);
    if (status === SENT) return;
    // Queued behind backpressure, or dropped at uWS's hard limit: past our limit the consumer is too slow.
    if (status === DROPPED || this.ws.getBufferedAmount() > this.limits.maxBackpressureBytes) {
      this.stats.backpressureCloses++;
      this.close(CLOSE.tooSlow);
    }
  }

  // --- Outlet (resume.ts) ------------------------------------------------------------------------------

  event(event: EventView): void {
    this.stats.eventsSent++;
    this.send(event.bytes ?? event.json);
  }

  subscribed(sub: Subscription): void {
    const { types, user_id, agent_id } = sub.filter.spec;
    this.send(
      frames.subscribed({
        subscription: sub.id,
        from: sub.from ?? '0-0',
        ...(types ? { types: [...types] } : {}),
        ...(user_id !== undefined ? { user_id } : {}),
        ...(agent_id !== undefined ? { agent_id } : {}),
      }),
    );
  }

  rejected(sub: Subscription, message: string): void {
    this.error('since_unknown', message, sub.id);
  }

  replayGap(sub: Subscription, firstId: string): void {
    this.send(frames.replayGap(sub.id, sub.since, firstId));
  }

  replayDone(sub: Subscription, lastId: string): void {
    this.send(frames.replayDone(sub.id, lastId));
  }

  cork(fn: () => void): void {
    if (this.closed) fn();
    else this.ws.cork(fn);
  }

  congested(): boolean {
    return this.closed || this.ws.getBufferedAmount() > this.limits.maxBackpressureBytes / 2;
  }

  drained(): Promise<void> {
    if (this.closed || !this.congested()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  overflow(): void {
    if (!this.closed) this.stats.backpressureCloses++;
    this.close(CLOSE.tooSlow);
  }

  failed(err: unknown): void {
    // A read still in flight when the socket closed (shutdown, say) has nobody left to tell.
    if (this.closed) return;
    if (isConnectionError(err)) {
      this.log.warn({ err: (err as Error).message }, 'event replay failed: redis unavailable');
      this.close(CLOSE.unavailable);
    } else {
      this.log.error({ err }, 'event replay failed');
      this.close(CLOSE.internal);
    }
  }
}
