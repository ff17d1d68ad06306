import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { killSpawned, spawnService } from '../helpers/process.js';
import {
  FILE_PREFIX,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';
import { startStubAi, type StubAi } from '../helpers/stub-ai.js';
import { layerTenant } from '../../src/tenant.js';

/** MNEMO_JOBS=off servers enqueue; `npm run worker` (src/worker.ts) processes, in its own process. */
let ai: StubAi;
let server: TestServer;

beforeAll(async () => {
  ai = await startStubAi(16);
  server = await startServer({
    jobs: 'off',
    embedder: 'openai',
    embeddingUrl: ai.url,
    embeddingDim: 16,
  });
});
// A worker process a failed test did not stop ends with it.
afterEach(killSpawned);
afterAll(async () => {
  await server.close();
  await ai.close();
});

/** `npm run worker`'s entry point on the tests' Redis, embedding with the stub endpoint. */
const spawnWorker = () =>
  spawnService(
    {
      REDIS_URL: inject('redisUrl'),
      MNEMO_KEY_PREFIX: FILE_PREFIX,
      MNEMO_EMBEDDER: 'openai',
      MNEMO_EMBEDDING_URL: ai.url,
      MNEMO_EMBEDDING_DIM: '16',
      MNEMO_LOG_LEVEL: 'info',
    },
    'src/worker.ts',
  );

const eventTypes = async (workspace: string): Promise<string[]> =>
  (await server.services.events.read(layerTenant(workspace), '0-0', 100)).events.map((e) => e.type);

describe('standalone worker', () => {
  it('embeds what a server without workers queued', async () => {
    const workspace = uniqueWorkspace('wrk');
    const key = await createLayerKey(server, workspace);
    await server.request('POST', '/v1/remember', { token: key, body: { content: 'queued for the worker' } });
    // Nobody works the queue yet.
    await new Promise((r) => setTimeout(r, 300));
    const types = () => eventTypes(workspace);
    expect(await types()).not.toContain('memory.embedded');

    const worker = spawnWorker();
    try {
      await worker.waitFor(/mnemo worker is running/);
      await expect.poll(types, { timeout: 15_000 }).toContain('memory.embedded');
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  });

  it('keeps every queue key on one Cluster slot and no finished job holding memory content', async () => {
    const workspace = uniqueWorkspace('wrk');
    const key = await createLayerKey(server, workspace);
    const secret = `erasable-${workspace}`;
    await server.request('POST', '/v1/remember', { token: key, body: { content: secret } });
    const worker = spawnWorker();
    const redis = new Redis(inject('redisUrl'));
    try {
      const types = () => eventTypes(workspace);
      await expect.poll(types, { timeout: 15_000 }).toContain('memory.embedded');
      const queueKeys = await redis.keys(`${FILE_PREFIX}:*mnemo-embed*`);
      expect(queueKeys.length).toBeGreaterThan(0);
      // BullMQ adds no hash tag of its own: without one in the prefix its scripts fail on a Cluster.
      for (const name of queueKeys) expect(name.startsWith(`${FILE_PREFIX}:{~bull}:mnemo-embed:`)).toBe(true);
      // The embedded event is written while the job is still active: wait until BullMQ has moved it out of
      // the active list (the same script that finishes a job removes it), then nothing may be left.
      const queue = `${FILE_PREFIX}:{~bull}:mnemo-embed`;
      const unfinished = async () =>
        (await redis.llen(`${queue}:active`)) +
        (await redis.llen(`${queue}:wait`)) +
        (await redis.zcard(`${queue}:delayed`));
      await expect.poll(unfinished, { timeout: 15_000 }).toBe(0);
      expect(await redis.zcard(`${queue}:completed`)).toBe(0);
      for (const name of queueKeys) {
        if ((await redis.type(name)) !== 'hash') continue;
        expect(JSON.stringify(await redis.hgetall(name))).not.toContain(secret);
      }
    } finally {
      redis.disconnect();
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  });

  it('refuses to start without REDIS_URL', async () => {
    const worker = spawnService({}, 'src/worker.ts');
    expect(await worker.exited).toBe(2);
    expect(worker.output()).toMatch(/set REDIS_URL/);
  });
});
