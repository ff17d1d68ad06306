import http from 'node:http';
import type net from 'node:net';
import { percentile } from '../lib/load.js';
import { BENCH_ADMIN_KEY } from '../lib/stack.js';
import type { ScenarioContext } from './types.js';

/**
 * Webhook delivery: a receiver in this process (127.0.0.1, answers 200 at once; the service runs with
 * MNEMO_ALLOW_PRIVATE_URLS=true), engram writes through HTTP, latency from the moment a write is sent to the
 * moment a delivery of its event arrives (write -> stream -> dispatcher -> BullMQ -> signed POST). Measured
 * for 1 webhook and for 100 webhooks in one organisation (every write fans out to 100 deliveries), then the
 * delivery rate the dispatcher and workers sustain under a burst of writes to 100 webhooks.
 */
export async function webhookScenario(ctx: ScenarioContext): Promise<void> {
  const receipts: { statement: string; at: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { statement?: string } };
        if (body.data?.statement) receipts.push({ statement: body.data.statement, at });
      } catch {
        // not an envelope
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const oneOrg = `${ctx.run}-wh1`;
    await register(ctx.url, oneOrg, port, 1);
    const writes = ctx.quick ? 30 : 100;
    const one = await sequential(ctx.url, oneOrg, writes, 1, receipts);
    report(ctx, 'webhook_1', one);

    const manyOrg = `${ctx.run}-wh100`;
    await register(ctx.url, manyOrg, port, 100);
    const many = await sequential(ctx.url, manyOrg, ctx.quick ? 10 : 30, 100, receipts);
    report(ctx, 'webhook_100', many);

    // Burst: writes as fast as one client sends them; deliveries per second until the last one arrived.
    const burst = ctx.quick ? 50 : 200;
    const started = performance.now();
    const prefix = `burst ${ctx.run}`;
    for (let i = 0; i < burst; i++) await write(ctx.url, manyOrg, `${prefix} ${i}`);
    const expected = burst * 100;
    await until(() => receipts.filter((r) => r.statement.startsWith(prefix)).length >= expected, 300_000);
    const last = Math.max(...receipts.filter((r) => r.statement.startsWith(prefix)).map((r) => r.at));
    const rate = expected / ((last - started) / 1000);
    ctx.figures.webhook_100_burst_deliveries = expected;
    ctx.figures.webhook_100_burst_deliveries_per_s = Math.round(rate);
    process.stderr.write(
      `webhook burst (100 webhooks)  ${expected} deliveries, ${rate.toFixed(0)} deliveries/s\n`,
    );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function admin(
  url: string,
  org: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${BENCH_ADMIN_KEY}`,
      'x-mnemo-org': org,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function register(url: string, org: string, port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await admin(url, org, 'POST', '/api/v1/admin/webhooks', {
      url: `http://127.0.0.1:${port}/hook/${i}`,
      events: ['engram.created'],
    });
}

const write = (url: string, org: string, statement: string) =>
  admin(url, org, 'POST', '/api/v1/engrams', { statement, scope: `org:${org}` });

/** One write at a time; each waits for all its deliveries. Latencies of every delivery, in ms. */
async function sequential(
  url: string,
  org: string,
  writes: number,
  perWrite: number,
  receipts: { statement: string; at: number }[],
): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < writes; i++) {
    const statement = `latency ${org} ${i}`;
    const sent = performance.now();
    await write(url, org, statement);
    await until(() => receipts.filter((r) => r.statement === statement).length >= perWrite, 60_000);
    for (const r of receipts) if (r.statement === statement) latencies.push(r.at - sent);
  }
  return latencies.sort((a, b) => a - b);
}

function report(ctx: ScenarioContext, name: string, latencies: number[]): void {
  const sorted = Float64Array.from(latencies).sort();
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  ctx.figures[`${name}_p50_ms`] = Math.round(p50 * 100) / 100;
  ctx.figures[`${name}_p99_ms`] = Math.round(p99 * 100) / 100;
  ctx.figures[`${name}_deliveries`] = latencies.length;
  process.stderr.write(
    `${name.padEnd(28)} write->receiver p50 ${p50.toFixed(1)} ms  p99 ${p99.toFixed(1)} ms\n`,
  );
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('webhook bench: deliveries did not arrive in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
