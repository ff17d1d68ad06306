import { describe, expect, it } from 'vitest';
import { startServerWithHeldRoute } from '../helpers/held-route.js';
import { startTestRedis } from '../helpers/redis.js';
import { startServer } from '../helpers/server.js';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, refuses new connections, then closes', async () => {
    const { server, path, entered, release } = await startServerWithHeldRoute();
    const inFlight = fetch(`${server.url}${path}`);
    await entered;
    const closed = server.close();
    // While draining, the listener is gone: a new connection is refused.
    await expect(fetch(`${server.url}/health`, { headers: { connection: 'close' } })).rejects.toThrow();
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await closed;
  });

  it('still stops when Redis has gone away (queues and connections are dropped after a bound)', async () => {
    const redis = await startTestRedis();
    try {
      const server = await startServer({ redisUrl: redis.url });
      expect((await server.request('GET', '/health')).status).toBe(200);
      await redis.stop();
      // Once the connections know Redis is gone they queue commands (QUIT too) until it returns.
      await expect.poll(async () => (await server.request('GET', '/health')).status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Without the bound, BullMQ workers and offline-queued QUITs wait for a Redis that never returns.
      await expect(server.close()).resolves.toBeUndefined();
    } finally {
      await redis.destroy();
    }
  }, 30_000);
});
