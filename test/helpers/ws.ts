import WebSocket from 'ws';
import type { TestServer } from './server.js';

/**
 * A real WebSocket client (the `ws` package) on a server's event stream, recording every frame. Frames with
 * an `op` are control frames; frames without are events.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = any;

export interface EventClient {
  ws: WebSocket;
  frames: Frame[];
  /** Event envelopes received, in order. */
  readonly events: Frame[];
  /** Resolves with the close code and reason once the socket closed. */
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** The first frame (already received or still to come) that satisfies `match`. */
  waitFor(match: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Sends a subscribe and resolves with its `subscribed` frame (rejects on an error frame for it). */
  subscribe(message: Record<string, unknown>): Promise<Frame>;
  close(): Promise<void>;
}

export type TokenTransport = 'header' | 'protocol' | 'query';

export function eventsUrl(server: TestServer, path = '/v1/events'): string {
  return `${server.url.replace(/^http/, 'ws')}${path}`;
}

export async function connectEvents(
  server: TestServer,
  token: string,
  options: { via?: TokenTransport; path?: string; headers?: Record<string, string> } = {},
): Promise<EventClient> {
  const via = options.via ?? 'header';
  let url = eventsUrl(server, options.path);
  if (via === 'query') url += `?access_token=${encodeURIComponent(token)}`;
  const headers = {
    ...(options.headers ?? {}),
    ...(via === 'header' ? { authorization: `Bearer ${token}` } : {}),
  };
  const ws =
    via === 'protocol' ? new WebSocket(url, ['bearer', token], { headers }) : new WebSocket(url, { headers });
  const client = wrap(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return client;
}

function wrap(ws: WebSocket): EventClient {
  const frames: Frame[] = [];
  const waiters = new Set<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }>();
  let subscribeCount = 0;
  ws.on('message', (data, isBinary) => {
    // Text frames arrive as one Buffer (the client's default binaryType).
    const frame = isBinary ? { binary: true } : JSON.parse((data as Buffer).toString('utf8'));
    frames.push(frame);
    for (const waiter of waiters) {
      if (waiter.match(frame)) {
        waiters.delete(waiter);
        waiter.resolve(frame);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('error', () => undefined);
  const client: EventClient = {
    ws,
    frames,
    get events() {
      return frames.filter((f) => !('op' in f));
    },
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    waitFor: (match, timeoutMs = 10_000) => {
      const found = frames.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve };
        waiters.add(waiter);
        setTimeout(() => {
          if (!waiters.delete(waiter)) return;
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`));
        }, timeoutMs);
      });
    },
    subscribe: async (message) => {
      const id = (message.id as string | undefined) ?? `t${++subscribeCount}`;
      const before = frames.length;
      client.send({ op: 'subscribe', id, ...message });
      const frame = await client.waitFor(
        (f) =>
          f.subscription === id && (f.op === 'subscribed' || f.op === 'error') && frames.indexOf(f) >= before,
      );
      if (frame.op === 'error') throw new Error(`subscribe ${id} failed: ${frame.code} ${frame.message}`);
      return frame;
    },
    close: async () => {
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await closed;
    },
  };
  return client;
}

/** Tries an upgrade that should be refused; resolves with the HTTP status and body. */
export function refusedUpgrade(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => undefined);
  });
}
