import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';
import { parsePrometheusText, sumOf } from '../helpers/prometheus-text.js';

/**
 * A workspace past MNEMO_VECTOR_PARTITION_MIN gets its vectors partitioned in the background by the
 * instance that indexes it. Scanning every partition (scan = 1), its recalls must equal those of an
 * instance that scans every vector, before and after writes and deletions made once it is partitioned.
 */
let partitioned: TestServer;
let exact: TestServer;

beforeAll(async () => {
  partitioned = await startServer({ vectorPartitionMin: 40, vectorPartitionScan: 1 });
  exact = await startServer({ vectorPartitionMin: 0 });
});
afterAll(async () => {
  await Promise.all([partitioned.close(), exact.close()]);
});

const WORDS = 'harbor lantern meadow copper violet glacier pepper canyon velvet orchard'.split(' ');
const content = (i: number): string =>
  `${WORDS[i % 10]} ${WORDS[(i * 3 + 1) % 10]} note ${i} about ${WORDS[(i * 7 + 2) % 10]}`;

async function recall(server: TestServer, token: string, query: string) {
  const res = await server.request('POST', '/v1/recall', {
    token,
    body: { query, top_k: 50, layers: ['episodic'] },
  });
  expect(res.status).toBe(200);
  return (res.json.results as { id: string; score: number }[]).map((r): [string, number] => [r.id, r.score]);
}

/**
 * The same memories with the same scores, to rounding: the exact instance reads cosines from its SIMD scan
 * (query quantized), the partitioned one computes a candidate's exactly, and each applies recency at its
 * own instant, so scores may differ in the 4th decimal and equal scores may swap places.
 */
async function expectSameRecall(token: string, query: string) {
  const got = new Map(await recall(partitioned, token, query));
  const want = new Map(await recall(exact, token, query));
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [id, score] of want) expect(Math.abs((got.get(id) as number) - score)).toBeLessThan(0.002);
  return [...got.keys()];
}

async function indexState(workspace: string, server = partitioned) {
  const res = await server.request('GET', '/admin/metrics', { token: ADMIN_KEY });
  const all = res.json.indexes.by_workspace as { workspace: string; partitioned: boolean; vectors: number }[];
  return all.find((w) => w.workspace.endsWith(workspace));
}

/** Polls until the server's index of `workspace` scans partitions (bounded, not timed). */
async function waitPartitioned(workspace: string, server: TestServer): Promise<void> {
  for (let attempt = 0; attempt < 500 && !(await indexState(workspace, server))?.partitioned; attempt++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect((await indexState(workspace, server))?.partitioned).toBe(true);
}

/** One counter of the server's /metrics, summed over the label sets that match. */
async function counter(server: TestServer, name: string, labels: Record<string, string>): Promise<number> {
  const res = await server.request('GET', '/metrics', { token: ADMIN_KEY });
  expect(res.status).toBe(200);
  return sumOf(parsePrometheusText(res.text), name, labels);
}

describe('vector partitions through the service', () => {
  it('partitions a workspace past the threshold and answers like an exact instance, writes and deletions included', async () => {
    const workspace = uniqueWorkspace('ivf');
    const key = await createLayerKey(partitioned, workspace, { rate_limit_rpm: 1_000_000 });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await partitioned.request('POST', '/v1/remember', {
        token: key,
        body: { content: content(i) },
      });
      expect(res.status).toBe(200);
      ids.push(res.json.episode_id as string);
    }
    await recall(partitioned, key, 'harbor'); // builds the index, which starts partitioning
    // The work is in the background: wait for it by its state, not by time.
    for (let attempt = 0; attempt < 500 && !(await indexState(workspace))?.partitioned; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await indexState(workspace))?.partitioned).toBe(true);
    expect((await indexState(workspace))?.vectors).toBeGreaterThanOrEqual(60); // episodes and working memories

    const queries = [
      'harbor lantern',
      'copper glacier note',
      'velvet',
      'orchard pepper canyon',
      'violet meadow',
    ];
    for (const q of queries) expect((await expectSameRecall(key, q)).length).toBeGreaterThan(0);

    for (let i = 60; i < 75; i++)
      await partitioned.request('POST', '/v1/remember', { token: key, body: { content: content(i) } });
    for (const id of ids.slice(0, 20)) {
      const res = await exact.request('DELETE', `/v1/memory/${id}`, { token: key });
      expect(res.status).toBe(200);
    }
    for (const q of queries) {
      expect(await expectSameRecall(key, q)).not.toContain(ids[0]);
    }
    expect((await indexState(workspace))?.partitioned).toBe(true);
  });

  it('writes the partitioned index as a snapshot that a fresh instance restores and partitions again', async () => {
    const settings = { vectorPartitionMin: 40, vectorPartitionScan: 1, indexSnapshotMinDocs: 40 };
    const writer = await startServer(settings);
    let reader: TestServer | undefined;
    try {
      const workspace = uniqueWorkspace('ivf-snap');
      const key = await createLayerKey(writer, workspace, { rate_limit_rpm: 1_000_000 });
      for (let i = 0; i < 60; i++)
        await writer.request('POST', '/v1/remember', { token: key, body: { content: content(i) } });
      await recall(writer, key, 'harbor');
      await waitPartitioned(workspace, writer);
      // Written at the build, then again with the partitions: wait for the second commit.
      const writes = { outcome: 'committed' };
      for (let attempt = 0; attempt < 500; attempt++) {
        if ((await counter(writer, 'mnemo_search_index_snapshot_writes_total', writes)) >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await counter(writer, 'mnemo_search_index_snapshot_writes_total', writes)).toBe(2);

      reader = await startServer(settings);
      const queries = ['harbor lantern', 'velvet', 'orchard pepper canyon'];
      const restoredRecall = await recall(reader, key, queries[0] as string);
      expect(await counter(reader, 'mnemo_search_index_snapshot_loads_total', { outcome: 'restored' })).toBe(
        1,
      );
      await waitPartitioned(workspace, reader);
      expect(restoredRecall.length).toBeGreaterThan(0);
      for (const q of queries) {
        const got = new Map(await recall(reader, key, q));
        const want = new Map(await recall(exact, key, q));
        expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      }
    } finally {
      await Promise.all([writer.close(), reader?.close()]);
    }
  });
});
