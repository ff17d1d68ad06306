import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/redis/keys.js';
import { layerTenant } from '../../src/tenant.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import {
  ADMIN_KEY,
  FILE_PREFIX,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestResponse,
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
  // A failed hang test must not leave its redis-server stopped.
  if (redis.server.pid > 0) process.kill(redis.server.pid, 'SIGCONT');
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

  it('answers 503 within the command timeout while Redis hangs, and applies no write twice when it resumes', async () => {
    const workspace = uniqueWorkspace('hang');
    const key = await createLayerKey(server, workspace);
    const outcomes = new Map<string, number>();
    let okWrites = 0;
    let frozen = false;
    const answeredWhileFrozen: TestResponse[] = [];
    // Writers send remembers back to back. Once Redis is stopped each goes on until it got a 503, so some
    // writes are caught in the middle (auth, rate limit, or the write script already sent) and some are
    // sent to the stopped Redis.
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; ; i++) {
        const content = `note ${w}-${i} about hanging`;
        const sentWhileFrozen = frozen;
        const res = await server.request('POST', '/v1/remember', { token: key, body: { content } });
        outcomes.set(content, res.status);
        if (res.status === 200) okWrites++;
        if (sentWhileFrozen) answeredWhileFrozen.push(res);
        if (sentWhileFrozen && res.status === 503) return;
      }
    };
    const redisPid = redis.server.pid;
    const writers = Array.from({ length: 6 }, (_, w) => writer(w));
    await expect.poll(() => okWrites, { timeout: 20_000, interval: 10 }).toBeGreaterThanOrEqual(30);
    process.kill(redisPid, 'SIGSTOP');
    try {
      frozen = true;
      const reads = await Promise.all([
        server.request('GET', '/v1/me', { token: key }),
        server.request('POST', '/v1/recall', { token: key, body: { query: 'hanging' } }),
        server.request('GET', '/health'),
      ]);
      const engram = await server.request('POST', '/api/v1/engrams', {
        token: ADMIN_KEY,
        headers: { 'x-mnemo-org': workspace },
        body: { statement: 'Written while Redis hangs' },
      });
      await Promise.all(writers);
      // Everything above was answered before SIGCONT (below): no request waits for a hung Redis.
      expect(reads.map((r) => r.status)).toEqual([503, 503, 503]);
      expect(reads[0]?.json).toEqual({ detail: expect.stringMatching(/unavailable/), status: 503 });
      expect(reads[0]?.headers.get('retry-after')).toBe('1');
      expect(engram.status).toBe(503);
      expect(engram.headers.get('content-type')).toBe('application/problem+json');
      expect(engram.headers.get('retry-after')).toBe('1');
      expect(answeredWhileFrozen.length).toBeGreaterThanOrEqual(6);
      expect(answeredWhileFrozen.every((r) => r.status === 503)).toBe(true);
    } finally {
      process.kill(redisPid, 'SIGCONT');
    }

    await expect
      .poll(async () => (await server.request('GET', '/health')).status, { timeout: 15_000, interval: 100 })
      .toBe(200);
    // Every write answered 200 is stored once; one answered 503 may or may not be, but never twice.
    const direct = new Redis(redis.url);
    try {
      const keys = new Keys(FILE_PREFIX);
      const ids = await direct.zrange(keys.episodes(layerTenant(workspace)), '0', '-1');
      const docs = ids.length ? await direct.hmget(keys.docs(layerTenant(workspace)), ...ids) : [];
      const stored = new Map<string, number>();
      for (const doc of docs) {
        const content = (JSON.parse(doc ?? '{}') as { content?: string }).content ?? '';
        stored.set(content, (stored.get(content) ?? 0) + 1);
      }
      for (const [content, status] of outcomes) {
        const copies = stored.get(content) ?? 0;
        if (status === 200) expect({ content, copies }).toEqual({ content, copies: 1 });
        else expect({ content, copies }).toEqual({ content, copies: expect.toBeOneOf([0, 1]) });
      }
      expect([...stored.keys()].every((content) => outcomes.has(content))).toBe(true);
    } finally {
      direct.disconnect();
    }
  });
});
