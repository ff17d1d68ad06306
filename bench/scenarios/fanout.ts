import WebSocket from 'ws';
import { percentile } from '../lib/load.js';
import { layerKey } from '../lib/stack.js';
import type { ScenarioContext } from './types.js';

/**
 * WebSocket fan-out: 1,000 subscribers on one workspace (real `ws` clients in this process), then writes
 * through HTTP one at a time. Latency is from the moment the write's HTTP response arrived to the moment a
 * subscriber received the event; every subscriber must receive every write.
 */
export async function fanoutScenario(ctx: ScenarioContext): Promise<void> {
  const subscribers = ctx.quick ? 200 : 1000;
  const writes = ctx.quick ? 20 : 50;
  const workspace = `${ctx.run}-fanout`;
  const key = await layerKey(ctx.url, workspace);
  const wsUrl = `${ctx.url.replace(/^http/, 'ws')}/v1/events`;
  // Receipts are kept as they come and matched to the writes' response times afterwards: an event may reach a
  // subscriber before the writer has read its HTTP response (latency 0 then).
  const receipts: { content: string; at: bigint }[] = [];
  const answeredAt = new Map<string, bigint>();

  const sockets: WebSocket[] = [];
  for (let i = 0; i < subscribers; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, subscribers - i) }, async () => {
        const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${key}` } });
        sockets.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        const subscribed = new Promise<void>((resolve) => {
          ws.on('message', (data: Buffer) => {
            const frame = JSON.parse(data.toString('utf8')) as {
              op?: string;
              type?: string;
              data?: { content?: string };
            };
            if (frame.op === 'subscribed') resolve();
            if (frame.type === 'memory.working.added') {
              receipts.push({ content: frame.data?.content ?? '', at: process.hrtime.bigint() });
            }
          });
        });
        ws.send(JSON.stringify({ op: 'subscribe', types: ['memory.working.added'] }));
        await subscribed;
      }),
    );
  }

  for (let i = 0; i < writes; i++) {
    const content = `fan-out event ${i} of ${ctx.run}`;
    const res = await fetch(`${ctx.url}/v1/remember`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content }),
    });
    answeredAt.set(content, process.hrtime.bigint());
    await res.text();
    const expected = (i + 1) * subscribers;
    const deadline = Date.now() + 10_000;
    while (receipts.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  }
  for (const ws of sockets) ws.close();
  const latencies: number[] = [];
  let delivered = 0;
  for (const { content, at } of receipts) {
    const answered = answeredAt.get(content);
    if (answered === undefined) continue;
    delivered++;
    latencies.push(Math.max(0, Number(at - answered) / 1e6));
  }

  const sorted = Float64Array.from(latencies).sort();
  const key_ = `ws_fanout_${subscribers}`;
  ctx.figures[`${key_}_p50_ms`] = Math.round(percentile(sorted, 50) * 1000) / 1000;
  ctx.figures[`${key_}_p99_ms`] = Math.round(percentile(sorted, 99) * 1000) / 1000;
  ctx.figures[`${key_}_delivered_ratio`] = Math.round((delivered / (subscribers * writes)) * 10_000) / 10_000;
  process.stderr.write(
    `fan-out to ${subscribers}: p50 ${ctx.figures[`${key_}_p50_ms`]} ms  p99 ${ctx.figures[`${key_}_p99_ms`]} ms  delivered ${ctx.figures[`${key_}_delivered_ratio`]}\n`,
  );
}
