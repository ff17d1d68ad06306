import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';

/**
 * The binary vector prefilter (MNEMO_VECTOR_PREFILTER_MIN / _CANDIDATES, src/memory/search/vector-store.ts)
 * through the service: one instance uses it from the first vector with few candidates, another never
 * does, both on the same Redis and workspace. Unit tests compare the scan itself with the full scan; here
 * the recall answers must stay right: the memory that says what the query says comes first, scores of the
 * same memory are equal, and a filter that leaves the prefilter fewer than top_k rows gets the full scan's
 * answer.
 */
let exact: TestServer;
let prefiltered: TestServer;

beforeAll(async () => {
  exact = await startServer({ vectorPrefilterMin: 0 });
  prefiltered = await startServer({ vectorPrefilterMin: 1, vectorPrefilterCandidates: 100 });
});
afterAll(async () => {
  await Promise.all([exact.close(), prefiltered.close()]);
});

const WORDS =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(
    ' ',
  );

describe('recall with the vector prefilter', () => {
  it('answers like the full scan where it matters, on the same workspace', async () => {
    const workspace = uniqueWorkspace('pf');
    const key = await createLayerKey(exact, workspace);
    // 240 memories of three words each, every tenth by the user "rare".
    for (let i = 0; i < 240; i++) {
      const content = `${WORDS[i % 16]} ${WORDS[(i * 7 + 3) % 16]} ${WORDS[(i * 11 + 5) % 16]} note${i}`;
      const res = await exact.request('POST', '/v1/remember', {
        token: key,
        body: { content, ...(i % 10 === 0 ? { user_id: 'rare' } : {}) },
      });
      expect(res.status).toBe(200);
    }
    const recall = (server: TestServer, body: Record<string, unknown>) =>
      server.request('POST', '/v1/recall', { token: key, body: { top_k: 5, mode: 'vector', ...body } });

    for (const i of [0, 17, 123, 239]) {
      const query = `${WORDS[i % 16]} ${WORDS[(i * 7 + 3) % 16]} ${WORDS[(i * 11 + 5) % 16]} note${i}`;
      const [a, b] = await Promise.all([recall(exact, { query }), recall(prefiltered, { query })]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      const top = (r: typeof a) => r.json.results[0] as { content: string; similarity: number };
      expect(top(a).content).toBe(query);
      expect(top(b).content).toBe(query);
      // The same memory scores the same either way (the prefilter rescored it with int8, as the scan does).
      const byContent = new Map<string, number>(
        (a.json.results as { content: string; similarity: number }[]).map((r) => [r.content, r.similarity]),
      );
      for (const r of b.json.results as { content: string; similarity: number }[]) {
        const same = byContent.get(r.content);
        if (same !== undefined) expect(r.similarity).toBeCloseTo(same, 6);
      }
    }

    // 24 of 480 documents belong to "rare": 100 kept rows hold about 5 of them, so the full scan runs.
    const filtered = { query: 'alpha bravo charlie', user_id: 'rare', top_k: 10 };
    const [a, b] = await Promise.all([recall(exact, filtered), recall(prefiltered, filtered)]);
    expect(b.status).toBe(200);
    expect(b.json.results.length).toBeGreaterThan(0);
    const ids = (r: typeof a) => (r.json.results as { id: string }[]).map((m) => m.id);
    expect(ids(b)).toEqual(ids(a));
  });

  it('refuses prefilter settings that are not counts in range', () => {
    for (const [name, value] of [
      ['MNEMO_VECTOR_PREFILTER_CANDIDATES', '5'],
      ['MNEMO_VECTOR_PREFILTER_CANDIDATES', 'many'],
      ['MNEMO_VECTOR_PREFILTER_MIN', '-1'],
      ['MNEMO_VECTOR_PREFILTER_MIN', '1.5'],
    ] as const) {
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
    expect(loadConfig({ MNEMO_VECTOR_PREFILTER_MIN: '0' }).vectorPrefilterMin).toBe(0);
  });
});
