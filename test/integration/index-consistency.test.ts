import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { layerTenant } from '../../src/tenant.js';

/**
 * The per-instance index is a cache of Redis: it must rebuild itself when the event stream was trimmed past
 * its position, and drop least-recently-used workspaces beyond its byte budget without losing anything.
 */
let writer: TestServer;
let reader: TestServer;

beforeAll(async () => {
  writer = await startServer({ eventStreamMaxLen: 1000 });
  reader = await startServer({ eventStreamMaxLen: 1000, indexMaxBytes: 1_048_576 });
});
afterAll(async () => {
  await Promise.all([writer.close(), reader.close()]);
});

const recall = (server: TestServer, token: string, query: string) =>
  server.request('POST', '/v1/recall', { token, body: { query, top_k: 100, layers: ['episodic'] } });

describe('index consistency', () => {
  it('rebuilds when the stream was trimmed past the index position', async () => {
    const workspace = uniqueWorkspace('trim');
    const key = await createLayerKey(writer, workspace, { rate_limit_rpm: 1_000_000 });
    await writer.request('POST', '/v1/remember', { token: key, body: { content: 'first pelican note' } });
    expect((await recall(reader, key, 'pelican')).json.results).toHaveLength(1); // the reader indexes it now

    // More events than the stream keeps (each remember appends two).
    for (let i = 0; i < 700; i++) {
      await writer.request('POST', '/v1/remember', { token: key, body: { content: `filler memory ${i}` } });
    }
    const last = await writer.request('POST', '/v1/remember', {
      token: key,
      body: { content: 'second pelican note' },
    });
    const page = await reader.services.events.read(layerTenant(workspace), '0-0', 1);
    expect(page.entriesAdded).toBeGreaterThan(page.length); // the stream really was trimmed

    const rebuildsBefore = reader.services.recall.indexUsage().rebuilds;
    const res = await recall(reader, key, 'pelican');
    expect(reader.services.recall.indexUsage().rebuilds).toBe(rebuildsBefore + 1);
    expect(res.json.results.map((r: { content: string }) => r.content).sort()).toEqual([
      'first pelican note',
      'second pelican note',
    ]);
    expect(res.json.results.map((r: { id: string }) => r.id)).toContain(last.json.episode_id);
    const fillers = await recall(reader, key, 'filler memory');
    expect(fillers.json.total_found).toBe(700); // every filler episode is found after the rebuild
  });

  it('drops least recently used indexes beyond its budget and rebuilds them on demand', async () => {
    const keys: string[] = [];
    for (let w = 0; w < 4; w++) {
      const key = await createLayerKey(writer, uniqueWorkspace('lru'));
      keys.push(key);
      for (let i = 0; i < 150; i++) {
        await writer.request('POST', '/v1/remember', {
          token: key,
          body: { content: `workspace ${w} memory ${i} ${'x'.repeat(200)}` },
        });
      }
    }
    for (const key of keys) expect((await recall(reader, key, 'memory')).json.total_found).toBe(150);
    const usage = reader.services.recall.indexUsage();
    expect(usage.bytes).toBeLessThanOrEqual(1_048_576 + 600_000); // the last one loaded may exceed on its own
    expect(usage.workspaces).toBeLessThan(5);
    // An evicted workspace is rebuilt transparently.
    expect((await recall(reader, keys[0]!, 'memory')).json.total_found).toBe(150);
  });

  it('keeps to its budget when indexes grow by catching up, not only when they load', async () => {
    const keys: string[] = [];
    for (let w = 0; w < 4; w++) {
      const key = await createLayerKey(writer, uniqueWorkspace('grow'), { rate_limit_rpm: 1_000_000 });
      keys.push(key);
      await writer.request('POST', '/v1/remember', { token: key, body: { content: `seed ${w}` } });
      expect((await recall(reader, key, 'seed')).json.total_found).toBe(1); // loaded while tiny
    }
    for (const [w, key] of keys.entries()) {
      for (let i = 0; i < 300; i++) {
        await writer.request('POST', '/v1/remember', {
          token: key,
          body: { content: `grown ${w} memory ${i} ${'y'.repeat(200)}` },
        });
      }
    }
    for (const key of keys) expect((await recall(reader, key, 'grown')).json.total_found).toBe(300);
    const usage = reader.services.recall.indexUsage();
    expect(usage.workspaces).toBeLessThan(4);
    expect(usage.bytes).toBeLessThanOrEqual(1_048_576 + 600_000);
  });
});
