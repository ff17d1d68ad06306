import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';

/**
 * Real receivers for webhook tests, all on 127.0.0.1 and stopped by the test that starts them: an HTTP
 * server that records each delivery's raw body and headers and answers what the test scripts; a TCP
 * listener that only counts connections (to prove a refused URL was never connected to); and a tiny DNS
 * server that answers A records from a table the test controls.
 */
export interface Received {
  headers: http.IncomingHttpHeaders;
  raw: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Statuses for the next requests, in order; after them every request gets `fallback`. */
  script(statuses: number[], fallback?: number): void;
  /** Resolves once `predicate` holds for the received list (polls; rejects after the deadline). */
  waitFor(
    predicate: (received: Received[]) => boolean,
    timeoutMs?: number,
    what?: string,
  ): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let queue: number[] = [];
  let fallback = 200;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        json = undefined;
      }
      received.push({ headers: req.headers, raw, json, at: Date.now() });
      const status = queue.length > 0 ? (queue.shift() as number) : fallback;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`answer ${status}`);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    script: (statuses, next = 200) => {
      queue = [...statuses];
      fallback = next;
    },
    waitFor: (predicate, timeoutMs = 20_000, what = 'deliveries') =>
      poll(() => predicate(received), timeoutMs, what).then(() => received),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` every 20 ms until it holds; rejects with `what` after `timeoutMs`. */
export async function poll(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A TCP listener on 127.0.0.1 that counts connections and closes them at once. */
export async function startConnectionCounter(): Promise<{
  port: number;
  count: () => number;
  close(): Promise<void>;
}> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, count: () => count, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A DNS server on 127.0.0.1 (UDP) answering A queries from `records` (name -> IPv4); others get NXDOMAIN. */
export async function startDnsServer(
  records: Map<string, string>,
): Promise<{ address: string; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (query, peer) => {
    if (query.length < 12) return;
    // Question: labels from offset 12, then QTYPE, QCLASS.
    let offset = 12;
    const labels: string[] = [];
    while (offset < query.length && query[offset] !== 0) {
      const len = query[offset] as number;
      labels.push(query.subarray(offset + 1, offset + 1 + len).toString('ascii'));
      offset += len + 1;
    }
    const questionEnd = offset + 5;
    const qtype = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const ip = records.get(name);
    const answer = ip !== undefined && qtype === 1;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8180 | (ip === undefined ? 3 : 0), 2); // response, RD+RA, NXDOMAIN when unknown
    header.writeUInt16BE(1, 4); // one question
    header.writeUInt16BE(answer ? 1 : 0, 6);
    const parts = [header, query.subarray(12, questionEnd)];
    if (answer) {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(1, 6); // TTL 1 s
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
      parts.push(rr);
    }
    socket.send(Buffer.concat(parts), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/** The receiver's side of the README's verification: true when one of the listed signatures matches. */
export function signatureMatches(
  header: string | string[] | undefined,
  secret: string,
  signed: string,
): boolean {
  if (typeof header !== 'string') return false;
  const expected = `sha256=${createHmac('sha256', secret).update(signed).digest('hex')}`;
  return header.split(',').some((part) => part.trim() === expected);
}

/** Server overrides for webhook tests: private loopback receivers allowed, retries and polling in ms. */
export const FAST_WEBHOOKS = {
  allowPrivateUrls: true,
  webhookRetryBaseMs: 20,
  webhookRetryMaxDelayMs: 200,
  webhookPollMs: 50,
  webhookLeaseMs: 2000,
  webhookTimeoutMs: 5000,
};
