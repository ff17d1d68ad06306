import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/memory/events.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { connectEvents } from '../helpers/ws.js';
import { layerTenant } from '../../src/tenant.js';

/** Cross-instance fan-out and backpressure. */
let a: TestServer;
let b: TestServer;
const actor: Actor = { type: 'api_key', id: 'key_fanout' };

beforeAll(async () => {
  // Two instances on one Redis, as behind a load balancer; `b` cuts off consumers 64 KiB behind.
  a = await startServer();
  b = await startServer({ wsMaxBackpressureBytes: 65_536 });
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

describe('fan-out across instances', () => {
  it('delivers a write handled by one instance to sockets on every instance', async () => {
    const workspace = uniqueWorkspace('fan');
    const key = await createLayerKey(a, workspace);
    const onA = await connectEvents(a, key);
    const onB = await connectEvents(b, key);
    await onA.subscribe({});
    await onB.subscribe({ types: ['memory.fact.added'] });
    const [viaA] = await a.services.events.append(layerTenant(workspace), actor, [
      { type: 'memory.fact.added', data: { id: 'f1', content: 'written through a' } },
    ]);
    const [viaB] = await b.services.events.append(layerTenant(workspace), actor, [
      { type: 'memory.fact.added', data: { id: 'f2', content: 'written through b' } },
    ]);
    for (const c of [onA, onB]) {
      await c.waitFor((f) => f.id === viaB);
      expect(c.events.map((e) => e.id)).toEqual([viaA, viaB]);
    }
    await Promise.all([onA.close(), onB.close()]);
    // With no socket left, the instances stop listening to the workspace.
    await expect.poll(() => a.eventServer.workspaceCount + b.eventServer.workspaceCount).toBe(0);
  });
});

describe('real writes across instances', () => {
  it("delivers a remember made over HTTP on one instance to a user's subscribers on another", async () => {
    const workspace = uniqueWorkspace('fanhttp');
    const key = await createLayerKey(a, workspace);
    const aliceOnB = await connectEvents(b, key);
    await aliceOnB.subscribe({ user_id: 'alice', types: ['memory.working.added', 'memory.episode.added'] });
    const everyoneOnB = await connectEvents(b, key);
    await everyoneOnB.subscribe({ types: ['memory.working.added'] });
    const remember = (content: string, user_id: string) =>
      a.request('POST', '/v1/remember', { token: key, body: { content, user_id } });
    try {
      expect((await remember('bob likes tea', 'bob')).status).toBe(200);
      const last = await remember('alice likes coffee', 'alice');
      expect(last.status).toBe(200);

      const episode = await aliceOnB.waitFor((f) => f.type === 'memory.episode.added');
      expect(episode).toMatchObject({ workspace, data: { id: last.json.episode_id, user_id: 'alice' } });
      await everyoneOnB.waitFor((f) => f.data?.content === 'alice likes coffee');
      expect(everyoneOnB.events.map((e) => e.data.user_id)).toEqual(['bob', 'alice']);
      expect(aliceOnB.events.every((e) => e.data.user_id === 'alice')).toBe(true);
      expect(aliceOnB.events.map((e) => e.type).sort()).toEqual([
        'memory.episode.added',
        'memory.working.added',
      ]);
    } finally {
      await Promise.all([aliceOnB.close(), everyoneOnB.close()]);
    }
  });
});

describe('backpressure', () => {
  it('closes a consumer that cannot keep up with 4008 while the others keep receiving', async () => {
    const workspace = uniqueWorkspace('slow');
    const key = await createLayerKey(b, workspace);
    const fast = await connectEvents(b, key);
    const slow = await connectEvents(b, key);
    await fast.subscribe({});
    await slow.subscribe({});
    // The slow consumer stops reading; the kernel buffers fill, then the server's queue grows.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    const content = 'x'.repeat(16_384);
    const written: string[] = [];
    for (let i = 0; i < 4000 && b.eventServer.socketCount > 1; i++) {
      written.push(
        ...(await b.services.events.append(layerTenant(workspace), actor, [
          { type: 'memory.working.added', data: { id: `w${i}`, content } },
        ])),
      );
    }
    expect(b.eventServer.socketCount).toBe(1);

    // The fast consumer got everything and still gets what comes next.
    const [after] = await a.services.events.append(layerTenant(workspace), actor, [
      { type: 'memory.fact.added', data: { id: 'after' } },
    ]);
    await fast.waitFor((f) => f.id === after);
    expect(fast.events.map((e) => e.id)).toEqual([...written, after]);

    // Once it reads again, the slow one finds what was queued, then the close frame telling it to resume.
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.closed).toEqual({ code: 4008, reason: 'too slow: resume from your last event id' });
    const received = slow.events.map((e) => e.id);
    expect(received).toEqual(written.slice(0, received.length));
    await fast.close();
  });
});
