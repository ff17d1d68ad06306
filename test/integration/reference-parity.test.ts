import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStrictRankedMemory } from '../helpers/plyra-sdk.js';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';

/**
 * What the reference server's own HTTP tests (plyraAI/plyra-memory-server, tests/test_router.py and
 * tests/test_auth.py) assert, checked here against mnemo, plus the request bodies the official SDK
 * (plyra_memory.backends.http) sends. Written from their assertions, not their code.
 *
 * Reference bugs mnemo deliberately does not copy (README, layer API compatibility) are tested where the
 * behaviour lives: DELETE /v1/memory refusing a layer other than working (layer-lifecycle), stable result
 * ids (layer-recall), content over 8000 characters a 400 rather than a 500 and episodes typed by `source`
 * (layer-remember), revoking an unknown key a 404 (admin-keys), stats per workspace (layer-lifecycle).
 */
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

/** A key as the reference fixture makes it: `{workspace_id, label, env: "test"}` answered 200. */
async function testKey(workspace = uniqueWorkspace('ref')): Promise<string> {
  const res = await server.request('POST', '/admin/keys', {
    token: ADMIN_KEY,
    body: { workspace_id: workspace, label: 'test', env: 'test' },
  });
  expect(res.status).toBe(200);
  expect(res.json.key).toMatch(/^plm_test_[0-9a-f]{48}$/);
  return res.json.key as string;
}

const post = (token: string | undefined, path: string, body: unknown) =>
  server.request('POST', path, { ...(token === undefined ? {} : { token }), body });

describe('reference routes (tests/test_router.py)', () => {
  it('GET /health answers 200 with status ok and uptime_seconds, without a key', async () => {
    const res = await server.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('ok');
    expect(typeof res.json.uptime_seconds).toBe('number');
  });

  it('remember answers both entry ids, facts_queued true and a latency', async () => {
    const key = await testKey();
    const res = await post(key, '/v1/remember', {
      content: 'user is debugging a LangGraph pipeline',
      importance: 0.8,
    });
    expect(res.status).toBe(200);
    expect(res.json.working_entry_id).toEqual(expect.any(String));
    expect(res.json.episode_id).toEqual(expect.any(String));
    expect(res.json.facts_queued).toBe(true);
    expect(res.json.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('remember accepts user_id and agent_id', async () => {
    const key = await testKey();
    const res = await post(key, '/v1/remember', {
      content: 'user prefers Python',
      user_id: 'user_123',
      agent_id: 'support-agent',
      importance: 0.9,
    });
    expect(res.status).toBe(200);
  });

  it('recall answers results, total_found and a latency', async () => {
    const key = await testKey();
    await post(key, '/v1/remember', { content: 'user loves TypeScript and async patterns' });
    const res = await post(key, '/v1/recall', { query: 'what does the user prefer?', top_k: 5 });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.json.results)).toBe(true);
    expect(Number.isInteger(res.json.total_found)).toBe(true);
    expect(res.json.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('context answers a string within the token budget', async () => {
    const key = await testKey();
    await post(key, '/v1/remember', { content: 'user is building a RAG pipeline with LangChain' });
    const res = await post(key, '/v1/context', { query: 'what is the user working on?', token_budget: 512 });
    expect(res.status).toBe(200);
    expect(typeof res.json.content).toBe('string');
    expect(res.json.token_count).toBeLessThanOrEqual(res.json.token_budget);
    expect(res.json.token_budget).toBe(512);
  });

  it('stats answers working, episodic, semantic and workspace_id', async () => {
    const workspace = uniqueWorkspace('ref');
    const key = await testKey(workspace);
    const res = await server.request('GET', '/v1/stats', { token: key });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ workspace_id: workspace, working: 0, episodic: 0, semantic: 0 });
  });

  it('keeps two workspaces apart: one finds nothing of what the other remembered', async () => {
    const alpha = await testKey(uniqueWorkspace('workspace-alpha'));
    const beta = await testKey(uniqueWorkspace('workspace-beta'));
    expect((await post(alpha, '/v1/remember', { content: 'alpha workspace secret data' })).status).toBe(200);
    const seen = await post(beta, '/v1/recall', { query: 'alpha workspace secret' });
    expect(seen.status).toBe(200);
    expect(seen.json.total_found).toBe(0);
    expect(seen.json.results).toEqual([]);
    // The owner does find it (so the zero above is isolation, not a search that finds nothing).
    const own = await post(alpha, '/v1/recall', { query: 'alpha workspace secret' });
    expect(own.json.total_found).toBeGreaterThan(0);
  });

  it('answers 400 for an invalid layer', async () => {
    const key = await testKey();
    const res = await post(key, '/v1/recall', { query: 'test', layers: ['invalid_layer'] });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ detail: 'Invalid layer. Use: working, episodic, semantic', status: 400 });
  });
});

describe('reference authentication (tests/test_auth.py)', () => {
  const remember = (headers: Record<string, string>) =>
    server.request('POST', '/v1/remember', { headers, body: { content: 'test' } });

  it('answers 401 {detail, status} without a key, to an unknown key and to a key not in the plm_ format', async () => {
    const refused: Record<string, string>[] = [
      {},
      { authorization: 'Bearer plm_live_invalid_key_000' },
      { authorization: 'Bearer not_a_plyra_key' },
    ];
    for (const headers of refused) {
      const res = await remember(headers);
      expect({ headers, status: res.status }).toEqual({ headers, status: 401 });
      expect(res.json).toEqual({ detail: expect.any(String), status: 401 });
    }
  });

  it('answers 200 to a valid key', async () => {
    const key = await testKey();
    expect((await remember({ authorization: `Bearer ${key}` })).status).toBe(200);
  });

  it('answers 401 (not 403) to a workspace key on an admin route, and creates no key', async () => {
    const key = await testKey();
    const other = uniqueWorkspace('other');
    const res = await post(key, '/admin/keys', { workspace_id: other });
    expect(res.status).toBe(401);
    const keys = await server.request('GET', `/admin/keys/${other}`, { token: ADMIN_KEY });
    expect(keys.json).toEqual([]);
  });

  it('answers 401 to a key once it is revoked (found as the newest key of its workspace)', async () => {
    const workspace = uniqueWorkspace('test-workspace');
    const key = await testKey(workspace);
    expect((await remember({ authorization: `Bearer ${key}` })).status).toBe(200);
    const keys = await server.request('GET', `/admin/keys/${workspace}`, { token: ADMIN_KEY });
    expect(keys.status).toBe(200);
    const revoked = await server.request('DELETE', `/admin/keys/${keys.json[0].key_id}`, {
      token: ADMIN_KEY,
    });
    expect(revoked.json).toEqual({ revoked: true, key_id: keys.json[0].key_id });
    expect((await remember({ authorization: `Bearer ${key}` })).status).toBe(401);
  });
});

describe('the official SDK as a client (plyra_memory.backends.http)', () => {
  it('accepts its remember, recall and context bodies, explicit nulls included', async () => {
    const key = await createLayerKey(server, uniqueWorkspace('sdk'));
    const remembered = await post(key, '/v1/remember', {
      content: 'I use neovim for everything',
      importance: 0.6,
      source: null,
      agent_id: 'default',
      user_id: null,
      metadata: {},
    });
    expect(remembered.status).toBe(200);
    const recalled = await post(key, '/v1/recall', {
      query: 'neovim',
      top_k: 10,
      agent_id: 'default',
      user_id: null,
    });
    expect(recalled.status).toBe(200);
    expect(recalled.json.results.length).toBeGreaterThan(0);
    for (const r of recalled.json.results) expectStrictRankedMemory(r); // RankedMemory(**r), extra="forbid"
    for (const field of ['query', 'results', 'total_found', 'cache_hit', 'latency_ms'])
      expect(recalled.json).toHaveProperty(field);
    const context = await post(key, '/v1/context', {
      query: 'neovim',
      token_budget: 2048,
      agent_id: 'default',
      user_id: null,
    });
    expect(context.status).toBe(200);
    for (const field of ['query', 'content', 'token_count', 'token_budget', 'memories_used'])
      expect(context.json).toHaveProperty(field);
    expect(context.json.content).toContain('neovim');
  });
});
