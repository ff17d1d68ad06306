import { createHash } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { Keys } from '../../src/redis/keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';

/**
 * On a Redis Cluster the global channels (credential invalidations) live on one subscriber connection to
 * some node. When that connection drops (the node died or restarted), ioredis quietly subscribes again on
 * another node; an invalidation published in between was missed. mnemo must treat the move as a lost connection: its credential caches
 * are cleared once the channels are confirmed on the new node. The test makes the missed message
 * deterministic: it deactivates a cached key in Redis without publishing, then closes the subscriber's
 * connection. With caches that live ten minutes, only that clearing can make the key stop working.
 */
let cluster: TestCluster;
let server: TestServer;

beforeAll(async () => {
  cluster = await startTestCluster();
  server = await startServer({ redisUrl: cluster.url, credentialCacheTtlMs: 600_000 });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await cluster?.destroy();
});

/**
 * Closes the global subscriber connection from the server side (CLIENT KILL of the connection ioredis
 * names `ioredis-cluster(subscriber)`), as a node that dies or restarts would, without touching the shard
 * subscribers: their resync would clear the caches too and hide what is tested here.
 */
async function killSubscriberConnection(): Promise<void> {
  for (const node of cluster.nodes) {
    const probe = new Redis({ host: '127.0.0.1', port: node.port, password: cluster.password });
    try {
      const clients = (await probe.client('LIST')) as string;
      const line = clients.split('\n').find((l) => l.includes('name=ioredis-cluster(subscriber)'));
      const id = line === undefined ? undefined : /\bid=(\d+)/.exec(line)?.[1];
      if (id !== undefined) {
        expect(await probe.client('KILL', 'ID', id)).toBe(1);
        return;
      }
    } finally {
      probe.disconnect();
    }
  }
  throw new Error('no node holds the subscriber connection');
}

describe('the cluster subscriber moving to another node', () => {
  it('clears credential caches, so an invalidation missed meanwhile cannot keep a key alive', async () => {
    const workspace = uniqueWorkspace('subm');
    const key = await createLayerKey(server, workspace);
    const stats = () => server.request('GET', '/v1/stats', { token: key });
    expect((await stats()).status).toBe(200);

    // The key is revoked behind the service's back: no invalidation message is published.
    const hash = createHash('sha256').update(key).digest('hex');
    const direct = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }], {
      redisOptions: { password: cluster.password },
    });
    try {
      await direct.hset(new Keys(server.services.config.keyPrefix).layerKeyByHash(hash), 'is_active', '0');
    } finally {
      direct.disconnect();
    }
    expect((await stats()).status, 'the cached key still works: nothing told the cache').toBe(200);

    await killSubscriberConnection();
    await expect.poll(async () => (await stats()).status, { timeout: 45_000, interval: 250 }).toBe(401);
  }, 90_000);
});
