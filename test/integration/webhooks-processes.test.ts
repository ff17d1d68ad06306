import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { Keys } from '../../src/redis/keys.js';
import { orgTenant } from '../../src/tenant.js';
import { killSpawned } from '../helpers/process.js';
import { spawnServer, stopService, type ServerProcess } from '../helpers/server-process.js';
import { request } from '../helpers/server.js';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

/**
 * Webhooks across real server processes (src/main.ts) sharing one Redis: an instance killed (SIGKILL)
 * after a write was acknowledged but before it was delivered loses nothing (another instance delivers it
 * from the stream), and two instances deliver each event exactly once.
 */
const ADMIN = `plm_admin_${randomHex(16)}`;
let receiver: Receiver;
let redis: Redis;
let dataDir: string;

beforeAll(async () => {
  receiver = await startReceiver();
  redis = new Redis(inject('redisUrl'));
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-wh-proc-'));
});
afterEach(async () => {
  await killSpawned();
});
afterAll(async () => {
  await killSpawned();
  await receiver?.close();
  await redis?.quit();
  await rm(dataDir, { recursive: true, force: true });
});

const envFor = (prefix: string, extra: Record<string, string> = {}) => ({
  MNEMO_KEY_PREFIX: prefix,
  MNEMO_ADMIN_KEY: ADMIN,
  MNEMO_DATA_DIR: dataDir,
  MNEMO_ALLOW_PRIVATE_URLS: 'true',
  MNEMO_WEBHOOK_POLL_MS: '50',
  MNEMO_WEBHOOK_LEASE_MS: '1500',
  MNEMO_WEBHOOK_RETRY_BASE_MS: '20',
  MNEMO_ENGRAM_RATE_LIMIT_RPM: '1000000',
  MNEMO_ENGRAM_WRITE_RATE_LIMIT_RPM: '1000000',
  ...extra,
});

const as = (server: ServerProcess, org: string) => (method: string, p: string, body?: unknown) =>
  request(server.base, method, p, {
    token: ADMIN,
    headers: { 'x-mnemo-org': org },
    ...(body === undefined ? {} : { body }),
  });

const statements = (prefix: string) =>
  receiver.received.filter((d) => String(d.json?.data?.statement ?? '').startsWith(prefix));

describe('webhooks across processes', () => {
  it('an instance killed between a write and its delivery loses nothing: the next one delivers it', async () => {
    const prefix = `t${randomHex(4)}`;
    const org = `proc-${randomHex(4)}`;
    const first = await spawnServer(envFor(prefix, { MNEMO_JOBS: 'off' }));
    const hook = await as(first, org)('POST', '/api/v1/admin/webhooks', {
      url: receiver.url,
      events: ['engram.created'],
    });
    expect(hook.status, hook.text).toBe(201);
    // Another (absent) instance holds the dispatch lease, so this one cannot enqueue the write ...
    const keys = new Keys(prefix);
    await redis.set(keys.webhookLease(orgTenant(org)), 'disp_gone', 'PX', 3000);
    const written = await as(first, org)('POST', '/api/v1/engrams', {
      statement: 'kill-test: acknowledged, then the instance died',
      scope: `org:${org}`,
    });
    expect(written.status, written.text).toBe(201);
    // ... and it dies with the write acknowledged and nothing delivered.
    process.kill(-(first.service.child.pid as number), 'SIGKILL');
    await first.service.exited;
    expect(statements('kill-test:')).toEqual([]);
    const second = await spawnServer(envFor(prefix));
    await receiver.waitFor(
      (r) => r.some((d) => String(d.json?.data?.statement).startsWith('kill-test:')),
      30_000,
    );
    expect(statements('kill-test:')).toHaveLength(1);
    expect(statements('kill-test:')[0]?.json.data.id).toBe(written.json.id);
    await stopService(second.service);
  }, 120_000);

  it('two instances deliver each event exactly once', async () => {
    const prefix = `t${randomHex(4)}`;
    const org = `pair-${randomHex(4)}`;
    const [a, b] = await Promise.all([spawnServer(envFor(prefix)), spawnServer(envFor(prefix))]);
    const hook = await as(a, org)('POST', '/api/v1/admin/webhooks', {
      url: receiver.url,
      events: ['engram.created'],
    });
    expect(hook.status, hook.text).toBe(201);
    const count = 20;
    for (let i = 0; i < count; i++) {
      const res = await as(i % 2 === 0 ? a : b, org)('POST', '/api/v1/engrams', {
        statement: `pair-test ${i}`,
        scope: `org:${org}`,
      });
      expect(res.status, res.text).toBe(201);
    }
    await receiver.waitFor(
      () => new Set(statements('pair-test').map((d) => d.json.data.statement)).size >= count,
      30_000,
    );
    // A last event through the other instance: once it arrives, every earlier job has run.
    await as(b, org)('POST', '/api/v1/engrams', { statement: 'pair-test sentinel', scope: `org:${org}` });
    await receiver.waitFor((r) => r.some((d) => d.json?.data?.statement === 'pair-test sentinel'), 30_000);
    const got = statements('pair-test');
    expect(got).toHaveLength(count + 1);
    expect(new Set(got.map((d) => d.headers['x-plur-delivery'])).size).toBe(count + 1);
    expect(new Set(got.map((d) => d.json.id)).size).toBe(count + 1);
    await Promise.all([stopService(a.service), stopService(b.service)]);
  }, 120_000);
});
