import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Keys } from '../../src/redis/keys.js';
import { layerTenant } from '../../src/tenant.js';
import {
  createLayerKey,
  FILE_PREFIX,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';

/**
 * Erasures racing remembers of the same user (many concurrent requests over HTTP) leave no working-memory
 * index entry without its document, and a last erasure leaves no key of the user behind.
 */
let server: TestServer;
let redis: Redis;

beforeAll(async () => {
  server = await startServer();
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await redis.quit();
  await server.close();
});

describe('erasure racing remembers', () => {
  it('leaves no orphaned working ids and no keys of the erased user', async () => {
    const workspace = uniqueWorkspace('race');
    const tenant = layerTenant(workspace);
    const token = await createLayerKey(server, workspace, { rate_limit_rpm: 1_000_000 });
    const keys = new Keys(FILE_PREFIX);
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < 120; i++) {
      requests.push(
        server.request('POST', '/v1/remember', {
          token,
          body: { content: `note ${i}`, user_id: 'racer', agent_id: `agent${i % 3}` },
        }),
      );
      if (i % 10 === 0) requests.push(server.request('DELETE', '/v1/users/racer', { token }));
    }
    await Promise.all(requests);

    const docsKey = keys.docs(tenant);
    await server.request('POST', '/v1/remember', {
      token,
      body: { content: 'after the race', user_id: 'racer', agent_id: 'agent0' },
    });
    expect(await redis.hlen(docsKey)).toBeGreaterThan(0); // the keys looked at are this server's
    for (const agent of ['agent0', 'agent1', 'agent2']) {
      const ids = await redis.zrange(keys.workingEntries(tenant, `racer|${agent}`), '0', '-1');
      const present = ids.length === 0 ? [] : await redis.hmget(docsKey, ...ids);
      expect(
        ids.filter((_, i) => present[i] === null),
        `orphans in racer|${agent}`,
      ).toEqual([]);
    }

    expect((await server.request('DELETE', '/v1/users/racer', { token })).status).toBe(200);
    for (const agent of ['agent0', 'agent1', 'agent2']) {
      expect(await redis.exists(keys.workingEntries(tenant, `racer|${agent}`))).toBe(0);
      expect(await redis.exists(keys.workingExpiry(tenant, `racer|${agent}`))).toBe(0);
    }
    expect(await redis.exists(keys.userDocs(tenant, 'racer'))).toBe(0);
    const namespaces = await redis.zrange(keys.namespaces(tenant), '0', '-1');
    expect(namespaces.filter((ns) => ns.startsWith('racer|'))).toEqual([]);
  });
});
