import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/memory/events.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';
import { connectEvents } from '../helpers/ws.js';
import { layerTenant } from '../../src/tenant.js';

/**
 * Event sockets across Redis trouble, on a redis-server of this file's own: messages published while the
 * subscriber connection is down are caught up from the stream, and a revocation lost meanwhile still closes.
 */
let redis: TestRedis;
let admin: Redis;
let server: TestServer;
const actor: Actor = { type: 'system', id: 'mnemo' };

beforeAll(async () => {
  redis = await startTestRedis();
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
  server = await startServer({ redisUrl: redis.url });
});
afterAll(async () => {
  await server.close();
  admin.disconnect();
  await redis.destroy();
});

const killSubscribers = () => admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');

describe('pub/sub outage', () => {
  it('delivers events published while the subscriber connection was down, once each and in order', async () => {
    const workspace = uniqueWorkspace('lost');
    const c = await connectEvents(server, await createLayerKey(server, workspace));
    await c.subscribe({});
    const [first] = await server.services.events.append(layerTenant(workspace), actor, [
      { type: 'memory.fact.added', data: {} },
    ]);
    await c.waitFor((f) => f.id === first);

    await killSubscribers();
    const written = [first];
    // Some of these are published before the subscriber is back: their messages are lost for good.
    for (let i = 0; i < 30; i++) {
      written.push(
        ...(await server.services.events.append(layerTenant(workspace), actor, [
          { type: 'memory.fact.added', data: { i } },
        ])),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await c.waitFor((f) => f.id === written.at(-1), 15_000);
    const [later] = await server.services.events.append(layerTenant(workspace), actor, [
      { type: 'memory.fact.added', data: {} },
    ]);
    await c.waitFor((f) => f.id === later);
    expect(c.events.map((e) => e.id)).toEqual([...written, later]);
    await c.close();
  });

  it('closes the socket of a key revoked while invalidations could not arrive', async () => {
    const workspace = uniqueWorkspace('revoked');
    const key = await createLayerKey(server, workspace);
    const c = await connectEvents(server, key);
    await c.subscribe({});
    const list = await server.request('GET', `/admin/keys/${workspace}`, { token: ADMIN_KEY });
    await killSubscribers();
    await server.request('DELETE', `/admin/keys/${list.json[0].key_id}`, { token: ADMIN_KEY });
    expect(await c.closed).toEqual({ code: 4001, reason: 'credential revoked' });
  });
});

describe('Redis restart', () => {
  it('keeps sockets open while Redis is down and resumes live delivery after it is back', async () => {
    const workspace = uniqueWorkspace('restart');
    const c = await connectEvents(server, await createLayerKey(server, workspace));
    await c.subscribe({});
    const [before] = await server.services.events.append(layerTenant(workspace), actor, [
      { type: 'memory.fact.added', data: {} },
    ]);
    await c.waitFor((f) => f.id === before);

    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    c.send({ op: 'ping' });
    await c.waitFor((f) => f.op === 'pong');
    await redis.restart();

    // Writes succeed again once the command connection is back; the socket sees them.
    let after: string | undefined;
    await expect
      .poll(
        async () => {
          try {
            [after] = await server.services.events.append(layerTenant(workspace), actor, [
              { type: 'memory.fact.added', data: {} },
            ]);
            return true;
          } catch {
            return false;
          }
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);
    await c.waitFor((f) => f.id === after, 15_000);
    expect(c.events[0].id).toBe(before);
    expect(c.events.at(-1).id).toBe(after);
    expect(new Set(c.events.map((e) => e.id)).size).toBe(c.events.length);
    await c.close();
  });
});
