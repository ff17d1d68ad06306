import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';

/** A redis-server of this file's own, so it can be stopped and restarted without disturbing other files. */
let redis: TestRedis;
let server: TestServer;

beforeAll(async () => {
  redis = await startTestRedis();
  server = await startServer({ redisUrl: redis.url, credentialCacheTtlMs: 0 });
});
afterAll(async () => {
  await server.close();
  await redis.destroy();
});

describe('Redis outage and restart', () => {
  it('keeps data across a redis-server restart, answers 503 while it is down, and recovers by itself', async () => {
    const workspace = uniqueWorkspace('outage');
    const key = await createLayerKey(server, workspace, { label: 'survivor' });
    const healthy = await server.request('GET', '/health');
    expect(healthy.status).toBe(200);
    expect(healthy.json).toMatchObject({ status: 'ok', database: 'ok', vectors: 'ok', env: 'development' });
    expect(healthy.json.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof healthy.json.uptime_seconds).toBe('number');

    await redis.stop();

    const down = await server.request('GET', '/health');
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({ status: 'degraded', database: 'error' });
    // Requests that need Redis fail fast with 503 in the face's dialect, not a hang or a 500.
    const me = await server.request('GET', '/v1/me', { token: key });
    expect(me.status).toBe(503);
    expect(me.json).toEqual({ detail: expect.stringMatching(/unavailable/), status: 503 });
    expect(me.headers.get('retry-after')).toBe('1');

    await redis.restart();

    await expect
      .poll(async () => (await server.request('GET', '/health')).status, { timeout: 15_000, interval: 100 })
      .toBe(200);
    const list = await server.request('GET', `/admin/keys/${workspace}`, { token: ADMIN_KEY });
    expect(list.json.map((k: { label: string }) => k.label)).toEqual(['survivor']);
    expect((await server.request('GET', '/v1/me', { token: key })).status).toBe(200);
  });
});
