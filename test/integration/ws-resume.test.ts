import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/memory/events.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { connectEvents, type EventClient } from '../helpers/ws.js';
import { layerTenant } from '../../src/tenant.js';

/** Resume with `since`: replay from the stream, then live, without a gap or a duplicate. */
let server: TestServer;
const actor: Actor = { type: 'api_key', id: 'key_resume' };

beforeAll(async () => {
  // The smallest stream cap, so the retention test can outgrow it quickly.
  server = await startServer({ eventStreamMaxLen: 1000 });
});
afterAll(async () => {
  await server.close();
});

const fact = (n: number) => ({ type: 'memory.fact.added', data: { id: `f${n}`, content: `fact ${n}` } });
const evicted = (n: number) => ({ type: 'working.evicted', data: { id: `w${n}` } });

async function streamIds(workspace: string): Promise<string[]> {
  const ids: string[] = [];
  let after = '0-0';
  for (;;) {
    const page = await server.services.events.read(layerTenant(workspace), after, 500);
    ids.push(...page.events.map((e) => e.id));
    if (page.events.length < 500) return ids;
    after = page.events.at(-1)!.id;
  }
}

describe('resume', () => {
  it('after a disconnect receives exactly the missed events, in order, then live ones', async () => {
    const workspace = uniqueWorkspace('resume');
    const key = await createLayerKey(server, workspace);
    const first = await connectEvents(server, key);
    await first.subscribe({ types: ['memory.*'] });
    const before = await server.services.events.append(layerTenant(workspace), actor, [
      fact(1),
      evicted(1),
      fact(2),
    ]);
    await first.waitFor((f) => f.id === before[2]);
    const lastSeen = first.events.at(-1).id;
    expect(first.events.map((e) => e.id)).toEqual([before[0], before[2]]);
    await first.close();

    const missed = await server.services.events.append(layerTenant(workspace), actor, [
      fact(3),
      evicted(2),
      fact(4),
      evicted(3),
      fact(5),
    ]);
    const second = await connectEvents(server, key);
    const subscribed = await second.subscribe({ id: 'again', types: ['memory.*'], since: lastSeen });
    expect(subscribed).toEqual({
      op: 'subscribed',
      subscription: 'again',
      from: lastSeen,
      types: ['memory.*'],
    });
    const done = await second.waitFor((f) => f.op === 'replay.done');
    expect(done).toEqual({ op: 'replay.done', subscription: 'again', last_id: missed[4] });
    expect(second.events.map((e) => e.data.id)).toEqual(['f3', 'f4', 'f5']);
    expect(second.events.map((e) => e.id)).toEqual([missed[0], missed[2], missed[4]]);

    const [live] = await server.services.events.append(layerTenant(workspace), actor, [fact(6)]);
    await second.waitFor((f) => f.id === live);
    expect(second.events.map((e) => e.data.id)).toEqual(['f3', 'f4', 'f5', 'f6']);
    // The frames came in this order: subscribed, replayed events, replay.done, live events.
    expect(second.frames.map((f) => f.op ?? f.data.id)).toEqual([
      'subscribed',
      'f3',
      'f4',
      'f5',
      'replay.done',
      'f6',
    ]);
    await second.close();
  });

  it('meets writes that race the replay without a gap or a duplicate', async () => {
    const workspace = uniqueWorkspace('race');
    const key = await createLayerKey(server, workspace);
    await server.services.events.append(
      layerTenant(workspace),
      actor,
      Array.from({ length: 300 }, (_, i) => fact(i)),
    );
    let writing = true;
    let n = 300;
    const writer = (async () => {
      while (writing)
        await server.services.events.append(layerTenant(workspace), actor, [fact(n++), fact(n++)]);
    })();
    const clients: EventClient[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await connectEvents(server, key);
      c.send({ op: 'subscribe', since: '0-0' });
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.waitFor((f) => f.op === 'replay.done')));
    writing = false;
    await writer;
    const ids = await streamIds(workspace);
    expect(ids.length).toBeGreaterThan(300);
    for (const c of clients) {
      await c.waitFor((f) => f.id === ids.at(-1));
      expect(c.events.map((e) => e.id)).toEqual(ids);
    }
    await Promise.all(clients.map((c) => c.close()));
  });

  it('lets several subscriptions resume from the same id on one socket, sending each event once', async () => {
    const workspace = uniqueWorkspace('multi');
    const key = await createLayerKey(server, workspace);
    const [start] = await server.services.events.append(layerTenant(workspace), actor, [fact(0)]);
    const ids = await server.services.events.append(layerTenant(workspace), actor, [
      fact(1),
      evicted(1),
      fact(2),
      evicted(2),
    ]);
    const c = await connectEvents(server, key);
    c.send({ op: 'subscribe', id: 'facts', types: ['memory.fact.added'], since: start });
    c.send({ op: 'subscribe', id: 'all', since: start });
    await c.waitFor((f) => f.op === 'replay.done' && f.subscription === 'facts');
    await c.waitFor((f) => f.op === 'replay.done' && f.subscription === 'all');
    expect(c.events.map((e) => e.id)).toEqual(ids);
    await c.close();
  });

  it('says so when since is older than what the stream keeps, then replays what is left', async () => {
    const workspace = uniqueWorkspace('trimmed');
    const key = await createLayerKey(server, workspace);
    const [oldest] = await server.services.events.append(layerTenant(workspace), actor, [fact(0)]);
    for (let batch = 0; batch < 25; batch++) {
      await server.services.events.append(
        layerTenant(workspace),
        actor,
        Array.from({ length: 100 }, (_, i) => evicted(batch * 100 + i)),
      );
    }
    const kept = await streamIds(workspace);
    expect(kept.length).toBeLessThan(2501);
    expect(kept[0]).not.toBe(oldest);

    const c = await connectEvents(server, key);
    await c.subscribe({ id: 'old', since: oldest });
    const gap = await c.waitFor((f) => f.op === 'replay.gap');
    expect(gap).toEqual({ op: 'replay.gap', subscription: 'old', since: oldest, first_id: kept[0] });
    await c.waitFor((f) => f.op === 'replay.done');
    expect(c.events.map((e) => e.id)).toEqual(kept);
    // The gap frame comes right after `subscribed`, before any replayed event.
    expect(c.frames.slice(0, 3).map((f) => f.op ?? 'event')).toEqual(['subscribed', 'replay.gap', 'event']);

    // A position the stream still keeps replays without a warning.
    const d = await connectEvents(server, key);
    await d.subscribe({ id: 'recent', since: kept[kept.length - 11] });
    await d.waitFor((f) => f.op === 'replay.done');
    expect(d.events.map((e) => e.id)).toEqual(kept.slice(-10));
    expect(d.frames.some((f) => f.op === 'replay.gap')).toBe(false);
    await Promise.all([c.close(), d.close()]);
  });
});
