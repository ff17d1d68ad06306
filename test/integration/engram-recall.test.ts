import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../helpers/fake-embeddings.js';
import type { TestServer } from '../helpers/server.js';

/** POST /api/v1/recall and /recall/bm25 (plur.md §1.3, §1.6). */
let server: TestServer;
let org: Org;
let alice: TestUser;
const engrams: Record<string, string> = {};

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server);
  alice = await org.user('alice', 'editor');
  const team = await org.group('platform');
  await org.member(team.id, alice, 'editor');
  const seed: [string, Record<string, unknown>][] = [
    [
      'migrations',
      {
        statement: 'Deploys must run database migrations first.',
        type: 'procedural',
        domain: 'software.deployment',
        tags: ['deploy', 'migrations'],
        scope: team.scope,
      },
    ],
    [
      'rollback',
      {
        statement: 'Every deploy needs a rollback plan.',
        type: 'procedural',
        domain: 'software.deployment',
        tags: ['deploy'],
        scope: team.scope,
      },
    ],
    [
      'naming',
      {
        statement: 'A canary is a small first release to a few users.',
        type: 'terminological',
        domain: 'software.release',
        tags: ['release'],
      },
    ],
    ['lunch', { statement: 'The cafeteria serves lunch at noon.', type: 'behavioral', domain: 'office' }],
  ];
  for (const [name, body] of seed) engrams[name] = (await org.engram(alice, body)).id;
});
afterAll(async () => {
  await server.close();
});

const recall = (body: Record<string, unknown>, path = '/api/v1/recall') => org.as(alice, 'POST', path, body);
const ids = (res: { json: { results: { id: string }[] } }) => res.json.results.map((r) => r.id);

describe('recall', () => {
  it('answers in the documented shape with fused scores between 0 and 1, best first', async () => {
    const res = await recall({ query: 'how do I deploy with database migrations', limit: 10 });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(
      [
        'count',
        'dropped_scopes',
        'effective_scopes',
        'mode',
        'requested_mode',
        'results',
        'truncated',
        'vector',
      ].sort(),
    );
    expect(res.json).toMatchObject({
      mode: 'hybrid',
      requested_mode: 'hybrid',
      vector: true,
      dropped_scopes: [],
      truncated: false,
    });
    expect(res.json.effective_scopes).toEqual([
      `user:${org.id}:alice`,
      `org:${org.id}`,
      'global',
      `group:${org.id}/platform`,
    ]);
    expect(ids(res)[0]).toBe(engrams.migrations);
    expect(ids(res)).toContain(engrams.rollback);
    expect(ids(res)).not.toContain(engrams.lunch);
    expect(res.json.count).toBe(res.json.results.length);
    const scores = res.json.results.map((r: { score: number }) => r.score);
    expect(scores[0]).toBe(1);
    for (const s of scores) expect(s).toBeGreaterThan(0);
    expect([...scores].sort((x: number, y: number) => y - x)).toEqual(scores);
    // Each result is the engram at the top level with its score (engram-recall-size.test.ts has the rest).
    const row = res.json.results[0];
    expect(row).toMatchObject({
      id: engrams.migrations,
      statement: 'Deploys must run database migrations first.',
      scope: `group:${org.id}/platform`,
      status: 'active',
      type: 'procedural',
      tags: ['deploy', 'migrations'],
      score: 1,
    });
    expect(row).not.toHaveProperty('data');
    expect(row).not.toHaveProperty('rationale');
  });

  it('returns nothing for a nonsense query', async () => {
    const res = await recall({ query: 'xylophone quasar fjord' });
    expect(res.json).toMatchObject({ results: [], count: 0 });
  });

  it('searches with BM25 only on /recall/bm25 and with mode keyword', async () => {
    for (const res of [
      await recall({ query: 'rollback plan' }, '/api/v1/recall/bm25'),
      await recall({ query: 'rollback plan', mode: 'keyword' }),
    ]) {
      expect(res.json).toMatchObject({ mode: 'keyword', requested_mode: 'keyword', vector: false });
      expect(ids(res)[0]).toBe(engrams.rollback);
      expect(res.json.results[0].score).toBe(1);
    }
  });

  it('filters by domain (and below), type and tags', async () => {
    expect(ids(await recall({ query: 'deploy release canary', domain: 'software.release' }))).toEqual([
      engrams.naming,
    ]);
    expect(ids(await recall({ query: 'deploy release canary', domain: 'software' })).sort()).toEqual(
      [engrams.migrations, engrams.rollback, engrams.naming].sort(),
    );
    expect(ids(await recall({ query: 'deploy release canary', type: 'terminological' }))).toEqual([
      engrams.naming,
    ]);
    expect(ids(await recall({ query: 'deploy', tags: ['deploy', 'migrations'] }))).toEqual([
      engrams.migrations,
    ]);
    expect(ids(await recall({ query: 'deploy', limit: 1 }))).toHaveLength(1);
  });

  it('counts recalls (frequency, last accessed) and never changes strength', async () => {
    const before = (await org.as(alice, 'GET', `/api/v1/engrams/${engrams.rollback}`)).json.data;
    await recall({ query: 'rollback plan' });
    await recall({ query: 'rollback plan' });
    const after = (await org.as(alice, 'GET', `/api/v1/engrams/${engrams.rollback}`)).json.data;
    expect(after.activation.frequency).toBe(before.activation.frequency + 2);
    expect(after.activation.last_accessed).toBe(new Date().toISOString().slice(0, 10));
    expect(after.retrieval_strength).toBe(before.retrieval_strength);
    expect(after.engram_version).toBe(before.engram_version);
  });

  it('leaves out retired engrams and candidates', async () => {
    const retired = await org.engram(alice, { statement: 'Zeppelins are retired here.' });
    await org.as(alice, 'DELETE', `/api/v1/engrams/${retired.id}`);
    const session = await org.as(alice, 'POST', '/api/v1/sessions', { task: 't' });
    await org.as(alice, 'POST', `/api/v1/sessions/${session.json.session_id}/end`, {
      summary: 's',
      learnings: ['Zeppelins are candidates here.'],
    });
    expect((await recall({ query: 'zeppelins' })).json.results).toEqual([]);
  });

  const bad: [string, unknown, RegExp][] = [
    ['no query', {}, /query is required/],
    ['an empty query', { query: '' }, /query must NOT have fewer than 1/],
    ['a query over 1000 characters', { query: 'q'.repeat(1001) }, /query must NOT have more than 1000/],
    ['limit 0', { query: 'q', limit: 0 }, /limit must be >= 1/],
    ['limit 101', { query: 'q', limit: 101 }, /limit must be <= 100/],
    ['an unknown mode', { query: 'q', mode: 'semantic' }, /mode must be one of: hybrid, keyword/],
    ['scopes that are not a list', { query: 'q', scopes: 'global' }, /scopes must be array/],
    ['a timeout of 0', { query: 'q', timeout_ms: 0 }, /timeout_ms must be >= 1/],
    ['an unknown type', { query: 'q', type: 'episodic' }, /type must be one of/],
  ];
  for (const [name, body, detail] of bad) {
    it(`answers 400 for ${name}`, async () => {
      const res = await recall(body as Record<string, unknown>);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(detail);
    });
  }
});

describe('recall with a slow embedder', () => {
  let embeddings: FakeEmbeddings;
  let slow: TestServer;
  let slowOrg: Org;
  let bob: TestUser;
  let id: string;

  beforeAll(async () => {
    embeddings = await startFakeEmbeddings();
    slow = await startEngramServer({
      embedder: 'openai',
      embeddingUrl: embeddings.url,
      embeddingDim: embeddings.dim,
      embedTimeoutMs: 5000,
    });
    slowOrg = new Org(slow, 'slow');
    bob = await slowOrg.user('bob');
    id = (await slowOrg.engram(bob, { statement: 'Blue green deploys switch traffic at once.' })).id;
  });
  afterAll(async () => {
    await slow.close();
    await embeddings.close();
  });

  it('uses the vectors once the background job has embedded the engram', async () => {
    await expect
      .poll(async () => (await slowOrg.as(bob, 'POST', '/api/v1/recall', { query: 'switch traffic' })).json, {
        timeout: 10_000,
      })
      .toMatchObject({ mode: 'hybrid', vector: true, results: [expect.objectContaining({ id })] });
  });

  it('answers from BM25 as hybrid-degraded when the query embedding misses timeout_ms', async () => {
    const res = await slowOrg.as(bob, 'POST', '/api/v1/recall', {
      query: 'slowword traffic',
      timeout_ms: 20,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ mode: 'hybrid-degraded', requested_mode: 'hybrid', vector: false });
    expect(ids(res)).toEqual([id]);
  });
});
