import { countTokens } from 'gpt-tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RANKED_MEMORY_KEYS, expectStrictRankedMemory } from '../helpers/plyra-sdk.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  a = await startServer();
  b = await startServer(); // a second instance on the same Redis
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

async function seed(server: TestServer, token: string, items: Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = [];
  for (const item of items) {
    const res = await server.request('POST', '/v1/remember', { token, body: item });
    expect(res.status).toBe(200);
    ids.push(res.json.episode_id as string);
  }
  return ids;
}

const recall = (server: TestServer, token: string, body: Record<string, unknown>) =>
  server.request('POST', '/v1/recall', { token, body });

describe('POST /v1/recall', () => {
  it('ranks relevant memories across layers in the documented shape', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [
      {
        content: 'I prefer async Python frameworks like FastAPI',
        importance: 0.9,
        metadata: { topic: 'code' },
      },
      { content: 'The weather in Lisbon was sunny all week' },
      { content: 'Deploys must run database migrations first' },
    ]);
    const res = await recall(a, key, { query: 'python frameworks', top_k: 5 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      query: 'python frameworks',
      cache_hit: false,
      mode: 'hybrid',
      vector: true,
    });
    expect(res.json.total_found).toBeGreaterThanOrEqual(res.json.results.length);
    const top = res.json.results[0];
    expect(top).toMatchObject({
      id: expect.stringMatching(/^(wm|ep|fact)_/),
      layer: expect.stringMatching(/^(working|episodic|semantic)$/),
      content: expect.stringMatching(/Python frameworks/),
      created_at: expect.any(String),
    });
    for (const r of res.json.results) {
      for (const field of ['score', 'similarity', 'recency', 'importance']) {
        expect(r[field]).toBeGreaterThanOrEqual(0);
        expect(r[field]).toBeLessThanOrEqual(1);
      }
      expect(r.content).not.toMatch(/Lisbon|migrations/);
    }
    const episode = res.json.results.find((r: { layer: string }) => r.layer === 'episodic');
    expect(episode.metadata).toEqual({ topic: 'code' });
    // Scores are sorted and follow 0.5*similarity + 0.3*recency + 0.2*importance.
    const scores = res.json.results.map((r: { score: number }) => r.score);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    expect(top.score).toBeCloseTo(0.5 * top.similarity + 0.3 * top.recency + 0.2 * top.importance, 3);
  });

  it('returns the same id for a memory on every call (stable ids)', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [{ content: 'stable identifiers matter' }]);
    const first = await recall(a, key, { query: 'stable identifiers', top_k: 3 });
    const second = await recall(b, key, { query: 'stable identifiers', top_k: 3 });
    expect(first.json.results.map((r: { id: string }) => r.id)).toEqual(
      second.json.results.map((r: { id: string }) => r.id),
    );
  });

  it("answers every layer's results in exactly the Plyra SDK's RankedMemory shape", async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [
      { content: 'I prefer async Python frameworks', user_id: 'u1', agent_id: 'bot', session_id: 's1' },
    ]);
    const res = await recall(a, key, { query: 'async python frameworks', top_k: 10 });
    expect(res.status).toBe(200);
    const layers = res.json.results.map((r: { layer: string }) => r.layer);
    expect(new Set(layers)).toEqual(new Set(['working', 'episodic', 'semantic']));
    for (const r of res.json.results) expectStrictRankedMemory(r);
    // The same check for a result cut to one layer (each layer on its own).
    for (const layer of ['working', 'episodic', 'semantic']) {
      const one = await recall(a, key, { query: 'async python frameworks', layers: [layer] });
      expect(one.json.results.length).toBeGreaterThan(0);
      for (const r of one.json.results) expectStrictRankedMemory(r);
    }
  });

  it("adds exactly the detail groups that include asks for, on each group's layer", async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [
      { content: 'I prefer async Python frameworks', user_id: 'u1', agent_id: 'bot', session_id: 's1' },
    ]);
    const ask = (include: unknown) =>
      recall(a, key, { query: 'async python frameworks', top_k: 10, include });
    const byLayer = (results: Record<string, unknown>[]) =>
      Object.fromEntries(results.map((r) => [r.layer, Object.keys(r).sort()]));
    const core = [...RANKED_MEMORY_KEYS].sort();
    const withCore = (...extra: string[]) => [...core, ...extra].sort();

    const namespace = await ask(['namespace']);
    expect(byLayer(namespace.json.results)).toEqual({
      working: withCore('user_id', 'agent_id', 'session_id'),
      episodic: withCore('user_id', 'agent_id', 'session_id'),
      semantic: withCore('user_id', 'agent_id', 'session_id'),
    });
    for (const r of namespace.json.results) {
      expect([r.user_id, r.agent_id, r.session_id]).toEqual(['u1', 'bot', 's1']);
    }
    const fact = await ask(['fact']);
    expect(byLayer(fact.json.results)).toEqual({ working: core, episodic: core, semantic: withCore('fact') });
    const semantic = fact.json.results.find((r: { layer: string }) => r.layer === 'semantic');
    const episode = fact.json.results.find((r: { layer: string }) => r.layer === 'episodic');
    expect(semantic.fact).toMatchObject({
      subject: 'user',
      predicate: 'prefers',
      status: 'current',
      source_episode_id: episode.id,
    });
    const all = await ask(['event', 'expires_at', 'fact', 'namespace', 'event']);
    const ns = ['user_id', 'agent_id', 'session_id'];
    expect(byLayer(all.json.results)).toEqual({
      working: withCore(...ns, 'expires_at'),
      episodic: withCore(...ns, 'event'),
      semantic: withCore(...ns, 'fact'),
    });
    for (const none of [null, []]) {
      const plain = await ask(none);
      expect(byLayer(plain.json.results)).toEqual({ working: core, episodic: core, semantic: core });
    }
    for (const bad of [['user_id'], ['Fact'], 'fact', [5], Array.from({ length: 17 }, () => 'fact')]) {
      const res = await ask(bad);
      expect({ bad, status: res.status, body: res.json }).toEqual({
        bad,
        status: 400,
        body: { detail: 'Invalid include. Use: namespace, event, expires_at, fact', status: 400 },
      });
    }
  });

  it('answers from BM25 alone in keyword mode', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [{ content: 'keyword mode finds exact terms' }]);
    const res = await recall(a, key, { query: 'exact terms', mode: 'keyword' });
    expect(res.json).toMatchObject({ mode: 'keyword', vector: false });
    expect(res.json.results.length).toBeGreaterThan(0);
    const bad = await recall(a, key, { query: 'x', mode: 'semantic' });
    expect(bad.status).toBe(400);
    expect(bad.json.detail).toBe('body.mode must be one of: hybrid, keyword, vector');
    const vectorOnly = await recall(a, key, { query: 'exact terms', mode: 'vector' });
    expect(vectorOnly.json).toMatchObject({ mode: 'vector', vector: true });
  });

  it('returns nothing for a nonsense query', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [{ content: 'I live in Berlin' }, { content: 'My dog is called Rex' }]);
    const res = await recall(a, key, { query: 'xqzvw plorkt fnargle' });
    expect(res.json.results).toEqual([]);
    expect(res.json.total_found).toBe(0);
  });

  it('filters by layers and rejects unknown layers with the reference message', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [{ content: 'I use neovim for everything' }]);
    for (const layer of ['working', 'episodic', 'semantic']) {
      const res = await recall(a, key, { query: 'neovim', layers: [layer] });
      expect(res.json.results.length).toBeGreaterThan(0);
      for (const r of res.json.results) expect(r.layer).toBe(layer);
    }
    const bad = await recall(a, key, { query: 'neovim', layers: ['working', 'procedural'] });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ detail: 'Invalid layer. Use: working, episodic, semantic', status: 400 });
  });

  it('answers every invalid layers value with the same 400 and the reference message', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [{ content: 'I use neovim for everything' }]);
    const invalid: unknown[] = [
      ['procedural'], // unknown
      ['Working'], // layers are lower-case
      [''],
      ['working', 'procedural'], // mixed valid and invalid
      ['procedural', 'working'],
      'working', // not a list
      'working,episodic',
      5,
      true,
      {},
      { working: true },
      [5],
      [null],
      ['working', 5],
      [['working']],
      ['working', 'episodic', 'semantic', 'procedural'],
      Array.from({ length: 17 }, () => 'working'), // an unbounded list
    ];
    for (const layers of invalid) {
      const res = await recall(a, key, { query: 'neovim', layers });
      expect({ layers, status: res.status, body: res.json }).toEqual({
        layers,
        status: 400,
        body: { detail: 'Invalid layer. Use: working, episodic, semantic', status: 400 },
      });
    }
    // null, empty (as on the reference server) and absent all mean every layer; a repeated layer counts once.
    const all = await recall(a, key, { query: 'neovim' });
    for (const layers of [null, []]) {
      const everyLayer = await recall(a, key, { query: 'neovim', layers });
      expect(everyLayer.status).toBe(200);
      expect(everyLayer.json.results).toEqual(all.json.results);
    }
    expect(new Set(all.json.results.map((r: { layer: string }) => r.layer)).size).toBeGreaterThan(1);
    const repeated = await recall(a, key, {
      query: 'neovim',
      layers: ['working', 'working', 'working', 'working'],
    });
    expect(repeated.status).toBe(200);
    expect(repeated.json.results.map((r: { layer: string }) => r.layer)).toEqual(['working']);
  });

  it('narrows by user_id and agent_id within the workspace', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [
      { content: 'alice likes green tea', user_id: 'alice', agent_id: 'x' },
      { content: 'bob likes green tea', user_id: 'bob', agent_id: 'x' },
      { content: 'alice likes green tea again', user_id: 'alice', agent_id: 'y' },
    ]);
    const namespace = { include: ['namespace'] };
    const alice = await recall(a, key, { query: 'green tea', user_id: 'alice', top_k: 50, ...namespace });
    expect(alice.json.results.length).toBeGreaterThan(0);
    for (const r of alice.json.results) expect(r.user_id).toBe('alice');
    const aliceX = await recall(a, key, {
      query: 'green tea',
      user_id: 'alice',
      agent_id: 'x',
      top_k: 50,
      ...namespace,
    });
    for (const r of aliceX.json.results) expect([r.user_id, r.agent_id]).toEqual(['alice', 'x']);
    expect(aliceX.json.total_found).toBeLessThan(alice.json.total_found);
  });

  it('honours top_k and reports total_found before the cut', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(
      a,
      key,
      Array.from({ length: 8 }, (_, i) => ({ content: `project falcon note ${i}` })),
    );
    const res = await recall(a, key, { query: 'project falcon', top_k: 3 });
    expect(res.json.results).toHaveLength(3);
    expect(res.json.total_found).toBeGreaterThanOrEqual(16); // working + episodic copies
  });

  it('answers a repeated query from the cache until the next write', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    await seed(a, key, [{ content: 'cache me if you can' }]);
    const first = await recall(a, key, { query: 'cache me', top_k: 5 });
    const second = await recall(a, key, { query: '  Cache   ME ', top_k: 5 });
    expect([first.json.cache_hit, second.json.cache_hit]).toEqual([false, true]);
    expect(second.json.results).toEqual(first.json.results);
    const otherTopK = await recall(a, key, { query: 'cache me', top_k: 4 });
    expect(otherTopK.json.cache_hit).toBe(false);
    await seed(b, key, [{ content: 'cache me once more' }]); // a write on the other instance
    const third = await recall(a, key, { query: 'cache me', top_k: 5 });
    expect(third.json.cache_hit).toBe(false);
    expect(third.json.results.length).toBeGreaterThan(first.json.results.length);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['missing query', {}, /body\.query is required/],
    ['empty query', { query: '' }, /query must NOT have fewer than 1/],
    ['query over 500 chars', { query: 'q'.repeat(501) }, /query must NOT have more than 500/],
    ['top_k 0', { query: 'x', top_k: 0 }, /top_k must be >= 1/],
    ['top_k 101', { query: 'x', top_k: 101 }, /top_k must be <= 100/],
    ['top_k a string', { query: 'x', top_k: '5' }, /top_k must be integer/],
    ['user_id with a space', { query: 'x', user_id: 'a b' }, /user_id must match pattern/],
  ];
  for (const [name, body, detail] of invalid) {
    it(`answers 400 for ${name}`, async () => {
      const key = await createLayerKey(a, uniqueWorkspace('rc'));
      const res = await recall(a, key, body as Record<string, unknown>);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ detail: expect.stringMatching(detail), status: 400 });
    });
  }

  it('answers 400 {detail, status} for every invalid mode, naming the valid ones', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('rc'));
    const modes: [unknown, string][] = [
      ['semantic', 'body.mode must be one of: hybrid, keyword, vector'],
      ['', 'body.mode must be one of: hybrid, keyword, vector'],
      ['HYBRID', 'body.mode must be one of: hybrid, keyword, vector'],
      // A mode recall may report, but not one a client may ask for.
      ['hybrid-degraded', 'body.mode must be one of: hybrid, keyword, vector'],
      [5, 'body.mode must be string'],
      [null, 'body.mode must be string'],
      [['keyword'], 'body.mode must be string'],
    ];
    for (const [mode, detail] of modes) {
      const res = await recall(a, key, { query: 'x', mode });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.json).toEqual({ detail, status: 400 });
    }
  });
});

describe('POST /v1/context', () => {
  it('builds lines within the budget, counted with a real tokenizer', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('ctx'));
    await seed(
      a,
      key,
      Array.from({ length: 30 }, (_, i) => ({
        content: `User prefers async Python, remark ${i}: ${'detail '.repeat(i % 9)}`,
      })),
    );
    for (const budget of [64, 100, 257, 2048]) {
      const res = await a.request('POST', '/v1/context', {
        token: key,
        body: { query: 'what does the user prefer?', token_budget: budget },
      });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        query: 'what does the user prefer?',
        token_budget: budget,
        cache_hit: false,
      });
      expect(res.json.token_count).toBeLessThanOrEqual(budget);
      expect(res.json.token_count).toBe(countTokens(res.json.content));
      const lines = res.json.content.split('\n');
      expect(lines).toHaveLength(res.json.memories_used);
      for (const line of lines)
        expect(line).toMatch(/^\[(WORKING|EPISODIC|SEMANTIC)\] .+ \(score: \d\.\d\d\)$/);
    }
    const defaults = await a.request('POST', '/v1/context', { token: key, body: { query: 'python' } });
    expect(defaults.json.token_budget).toBe(2048);
  });

  it('renders each text once: the best-scored copy of one remember, not one per layer', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('ctx'));
    await seed(a, key, [
      { content: 'Deploys must run database migrations first', importance: 0.9 },
      { content: 'deploys must run database migrations first!' }, // the same, said again
      { content: 'I prefer async Python frameworks' }, // a sentence and its fact
    ]);
    const context = async (query: string) =>
      (await a.request('POST', '/v1/context', { token: key, body: { query, token_budget: 2048 } })).json;
    const deploys = await context('deploys database migrations');
    // Four copies (working and episodic, twice); the more important remember scores best and is kept.
    expect(deploys.content).toMatch(
      /^\[(WORKING|EPISODIC)\] Deploys must run database migrations first \(score: \d\.\d\d\)$/,
    );
    expect(deploys.memories_used).toBe(1);
    expect(deploys.token_count).toBe(countTokens(deploys.content));
    // A fact's triple says it in other words (the third person): it stays beside its sentence, once each.
    const python = await context('async python frameworks');
    const texts = python.content.split('\n').map((l: string) => l.replace(/^\[\w+\] | \(score: .*$/g, ''));
    expect(texts.filter((t: string) => /python/i.test(t)).sort()).toEqual([
      'I prefer async Python frameworks',
      'user prefers async Python frameworks',
    ]);
  });

  it('accepts a query of exactly 500 characters, the documented maximum', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('ctx'));
    const res = await a.request('POST', '/v1/context', { token: key, body: { query: 'q'.repeat(500) } });
    expect(res.status).toBe(200);
  });

  const NAMESPACE_PATTERN = '"^[A-Za-z0-9._:@+=/-]{1,128}$"';
  const invalidContext: [
    string,
    { body?: unknown; rawBody?: string; headers?: Record<string, string> },
    string,
  ][] = [
    ['missing query', { body: {} }, 'body.query is required'],
    // JSON null is not an empty body: it is refused as not an object.
    ['a null body (no query)', { body: null }, 'body must be object'],
    ['empty query', { body: { query: '' } }, 'body.query must NOT have fewer than 1 characters'],
    [
      'query of 501 characters',
      { body: { query: 'q'.repeat(501) } },
      'body.query must NOT have more than 500 characters',
    ],
    ['query a number', { body: { query: 5 } }, 'body.query must be string'],
    ['query null', { body: { query: null } }, 'body.query must be string'],
    ['query an array', { body: { query: ['x'] } }, 'body.query must be string'],
    ['user_id a number', { body: { query: 'x', user_id: 5 } }, 'body.user_id must be string,null'],
    ['user_id an object', { body: { query: 'x', user_id: {} } }, 'body.user_id must be string,null'],
    [
      'user_id with a space',
      { body: { query: 'x', user_id: 'a b' } },
      `body.user_id must match pattern ${NAMESPACE_PATTERN}`,
    ],
    [
      'user_id empty',
      { body: { query: 'x', user_id: '' } },
      `body.user_id must match pattern ${NAMESPACE_PATTERN}`,
    ],
    [
      'user_id of 129 characters',
      { body: { query: 'x', user_id: 'u'.repeat(129) } },
      `body.user_id must match pattern ${NAMESPACE_PATTERN}`,
    ],
    [
      'agent_id with the namespace separator',
      { body: { query: 'x', agent_id: 'a|b' } },
      `body.agent_id must match pattern ${NAMESPACE_PATTERN}`,
    ],
    ['a string body', { body: 'what does the user prefer?' }, 'body must be object'],
    ['an array body', { body: [{ query: 'x' }] }, 'body must be object'],
    ['a number body', { body: 5 }, 'body must be object'],
    [
      'malformed JSON',
      { rawBody: '{"query": "x"', headers: { 'content-type': 'application/json' } },
      'Invalid JSON body',
    ],
    [
      'a form-encoded body',
      { rawBody: 'query=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      'Invalid JSON body',
    ],
  ];
  for (const [name, input, detail] of invalidContext) {
    it(`answers 400 {detail, status} for ${name} and writes nothing`, async () => {
      const key = await createLayerKey(a, uniqueWorkspace('ctx'));
      await seed(a, key, [{ content: 'User prefers async Python', user_id: 'u1' }]);
      const before = (await a.request('GET', '/v1/stats', { token: key })).json;
      const res = await a.request('POST', '/v1/context', { token: key, ...input });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.json).toEqual({ detail, status: 400 });
      const after = (await a.request('GET', '/v1/stats', { token: key })).json;
      expect([after.working, after.episodic, after.semantic]).toEqual([
        before.working,
        before.episodic,
        before.semantic,
      ]);
    });
  }

  it('validates the budget', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('ctx'));
    for (const token_budget of [63, 32_001, 'many']) {
      const res = await a.request('POST', '/v1/context', { token: key, body: { query: 'x', token_budget } });
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(/token_budget/);
    }
  });
});

describe('workspace isolation and instances', () => {
  it("never shows one workspace's memories to another", async () => {
    const keyA = await createLayerKey(a, uniqueWorkspace('iso'));
    const keyB = await createLayerKey(a, uniqueWorkspace('iso'));
    const [episodeA] = await seed(a, keyA, [
      { content: 'top secret launch codes for project kestrel', agent_id: 'agent-a' },
    ]);
    const res = await recall(a, keyB, { query: 'launch codes project kestrel' });
    expect(res.json.results).toEqual([]);
    expect(res.json.total_found).toBe(0);
    const stats = await a.request('GET', '/v1/stats', { token: keyB });
    expect(stats.json).toMatchObject({
      working_entries: 0,
      episodic_records: 0,
      semantic_facts: 0,
      agents: [],
    });
    // Another workspace's id is simply not found, for reading and for deleting.
    expect((await a.request('GET', `/v1/memory/${episodeA}`, { token: keyB })).status).toBe(404);
    expect((await a.request('DELETE', `/v1/memory/${episodeA}`, { token: keyB })).status).toBe(404);
    expect((await a.request('GET', `/v1/memory/${episodeA}`, { token: keyA })).status).toBe(200);
  });

  it('recalls on one instance what was remembered through the other, at once', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('two'));
    await recall(b, key, { query: 'warm up the index' }); // b has this workspace indexed already
    for (let i = 0; i < 5; i++) {
      const word = `zebra${i}crossing`;
      await seed(a, key, [{ content: `note about ${word}` }]);
      const res = await recall(b, key, { query: word });
      expect(res.json.results.map((r: { content: string }) => r.content)).toContain(`note about ${word}`);
    }
  });
});
