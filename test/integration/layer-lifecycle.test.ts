import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';

/** Working-memory capacity and TTL, facts over time, deletion and erasure, stats. */
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  a = await startServer({ workingCapacity: 3, sweepIntervalMs: 200 });
  b = await startServer({ workingCapacity: 3, sweepIntervalMs: 200 });
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

const remember = (server: TestServer, token: string, body: Record<string, unknown>) =>
  server.request('POST', '/v1/remember', { token, body });
const recall = (server: TestServer, token: string, body: Record<string, unknown>) =>
  server.request('POST', '/v1/recall', { token, body });
const ids = (res: { json: { results: { id: string }[] } }) => res.json.results.map((r) => r.id);

describe('working memory', () => {
  it('keeps at most capacity entries per namespace, evicting the lowest importance then the oldest', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('wm'));
    const ns = { user_id: 'u1' };
    const low = await remember(a, key, { content: 'low importance note', importance: 0.1, ...ns });
    const mid = await remember(a, key, { content: 'mid importance note', importance: 0.5, ...ns });
    const high = await remember(a, key, { content: 'high importance note', importance: 0.9, ...ns });
    const other = await remember(a, key, { content: 'other namespace note', importance: 0.1, user_id: 'u2' });
    const fourth = await remember(a, key, { content: 'fourth note', importance: 0.5, ...ns });
    expect(fourth.json.evicted).toEqual([low.json.working_entry_id]);
    const fifth = await remember(a, key, { content: 'fifth note', importance: 0.5, ...ns });
    expect(fifth.json.evicted).toEqual([mid.json.working_entry_id]); // tie at 0.5: the older goes

    const stats = await a.request('GET', '/v1/stats', { token: key, headers: {} });
    expect(stats.json.working_entries).toBe(4); // 3 for u1, 1 for u2
    const working = await recall(b, key, { query: 'note', layers: ['working'], user_id: 'u1', top_k: 10 });
    expect(ids(working).sort()).toEqual(
      [high.json.working_entry_id, fourth.json.working_entry_id, fifth.json.working_entry_id].sort(),
    );
    expect((await a.request('GET', `/v1/memory/${low.json.working_entry_id}`, { token: key })).status).toBe(
      404,
    );
    // Episodes are never evicted.
    expect((await a.request('GET', `/v1/memory/${low.json.episode_id}`, { token: key })).status).toBe(200);
    expect(other.json.evicted).toEqual([]);
  });

  it('expires entries with a TTL: never recalled after expiry, then swept', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('ttl'));
    const res = await remember(a, key, { content: 'ephemeral flamingo token', ttl_seconds: 1 });
    const before = await recall(b, key, { query: 'ephemeral flamingo', layers: ['working'] });
    expect(ids(before)).toEqual([res.json.working_entry_id]);
    await new Promise((r) => setTimeout(r, 1100));
    const after = await recall(b, key, { query: 'ephemeral flamingo', layers: ['working'] });
    expect(after.json.results).toEqual([]);
    // The sweeper deletes it from Redis (and emits working.expired) without any further write.
    await expect
      .poll(
        async () =>
          (await a.request('GET', `/v1/memory/${res.json.working_entry_id}`, { token: key })).status,
        {
          timeout: 10_000,
          interval: 100,
        },
      )
      .toBe(404);
    expect((await a.request('GET', '/v1/stats', { token: key })).json.working_entries).toBe(0);
  });

  it('clears one namespace with DELETE /v1/memory (body or query)', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('clr'));
    await remember(a, key, { content: 'one', agent_id: 'bot' });
    await remember(a, key, { content: 'two', agent_id: 'bot' });
    await remember(a, key, { content: 'three', agent_id: 'other' });
    const cleared = await a.request('DELETE', '/v1/memory', { token: key, body: { agent_id: 'bot' } });
    expect(cleared.status).toBe(200);
    // The seed's {deleted: <count>, agent_id} and the reference server's message, worded as it does.
    expect(cleared.json).toEqual({
      deleted: 2,
      agent_id: 'bot',
      user_id: null,
      layer: 'working',
      message: 'Cleared working memory for agent bot',
    });
    const byQuery = await a.request('DELETE', '/v1/memory?agent_id=other', { token: key });
    expect(byQuery.json).toMatchObject({ deleted: 1, agent_id: 'other' });
    const none = await a.request('DELETE', '/v1/memory', { token: key });
    expect(none.json).toEqual({
      deleted: 0,
      agent_id: null,
      user_id: null,
      layer: 'working',
      message: 'Cleared working memory for the namespace without user or agent',
    });
    const both = await a.request('DELETE', '/v1/memory', {
      token: key,
      body: { user_id: 'u', agent_id: 'bot' },
    });
    expect(both.json).toMatchObject({
      deleted: 0,
      message: 'Cleared working memory for user u and agent bot',
    });
    const user = await a.request('DELETE', '/v1/memory?user_id=u', { token: key });
    expect(user.json).toMatchObject({ deleted: 0, message: 'Cleared working memory for user u' });
    const stats = await a.request('GET', '/v1/stats', { token: key });
    expect(stats.json).toMatchObject({ working_entries: 0, episodic_records: 3 });
    const bad = await a.request('DELETE', '/v1/memory', { token: key, body: { agent_id: 5 } });
    expect(bad.status).toBe(400);
  });
});

describe('DELETE /v1/memory layer', () => {
  it('clears working memory for layer absent, null or "working" and refuses any other layer, deleting nothing', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('clr'));
    const workingCount = async () =>
      (await a.request('GET', '/v1/stats?agent_id=bot', { token: key })).json.working_entries;
    await remember(a, key, { content: 'one', agent_id: 'bot' });
    await remember(a, key, { content: 'two', agent_id: 'bot' });
    const refused = (detail: string) => ({ status: 400, body: { detail, status: 400 } });
    const detail =
      'Invalid layer. Use: working (episodic and semantic memories are deleted with DELETE /v1/memory/{id} or DELETE /v1/users/{user_id})';
    for (const layer of ['bogus', 'episodic', 'semantic', 'Working', '', 5, ['working'], { working: true }]) {
      const res = await a.request('DELETE', '/v1/memory', { token: key, body: { agent_id: 'bot', layer } });
      expect({ layer, status: res.status, body: res.json }).toEqual({ layer, ...refused(detail) });
    }
    for (const layer of ['bogus', 'episodic', 'semantic', '']) {
      const res = await a.request('DELETE', `/v1/memory?agent_id=bot&layer=${layer}`, { token: key });
      expect({ layer, status: res.status, body: res.json }).toEqual({ layer, ...refused(detail) });
    }
    // A valid body does not excuse an invalid query string, nor the other way round.
    const mixed = await a.request('DELETE', '/v1/memory?layer=episodic', {
      token: key,
      body: { agent_id: 'bot', layer: 'working' },
    });
    expect(mixed.status).toBe(400);
    expect(await workingCount()).toBe(2);

    const byBody = await a.request('DELETE', '/v1/memory', {
      token: key,
      body: { agent_id: 'bot', layer: 'working' },
    });
    expect(byBody.json).toMatchObject({ deleted: 2, layer: 'working', agent_id: 'bot' });
    await remember(a, key, { content: 'three', agent_id: 'bot' });
    const byQuery = await a.request('DELETE', '/v1/memory?agent_id=bot&layer=working', { token: key });
    expect(byQuery.json).toMatchObject({ deleted: 1, layer: 'working' });
    await remember(a, key, { content: 'four', agent_id: 'bot' });
    const asNull = await a.request('DELETE', '/v1/memory', {
      token: key,
      body: { agent_id: 'bot', layer: null },
    });
    expect(asNull.json).toMatchObject({ deleted: 1, layer: 'working' });
  });
});

describe('facts', () => {
  it('extracts facts, confirms duplicates and supersedes single-valued ones (history kept)', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('facts'));
    const first = await remember(a, key, { content: 'I live in Berlin', user_id: 'eve' });
    const berlin = first.json.facts[0];
    expect(berlin).toMatchObject({ predicate: 'located_in', object: 'Berlin', status: 'added' });
    const again = await remember(a, key, { content: 'Yes, I live in Berlin.', user_id: 'eve' });
    expect(again.json.facts).toEqual([expect.objectContaining({ id: berlin.id, status: 'confirmed' })]);
    const moved = await remember(a, key, { content: 'I live in Paris now', user_id: 'eve' });
    expect(moved.json.facts[0]).toMatchObject({ object: 'Paris', status: 'added', superseded: [berlin.id] });

    const where = await recall(b, key, { query: 'where does the user live', layers: ['semantic'] });
    expect(where.json.results.map((r: { content: string }) => r.content)).toEqual(['user located_in Paris']);
    const old = await a.request('GET', `/v1/memory/${berlin.id}`, { token: key });
    expect(old.json.fact).toMatchObject({ status: 'superseded', superseded_by: moved.json.facts[0].id });
    expect(old.json.fact.valid_to).not.toBeNull();
    expect((await a.request('GET', '/v1/stats', { token: key })).json.semantic_facts).toBe(1);
  });

  it('supersedes a preference for the same thing and the opposite polarity', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('pref'));
    const dark = await remember(a, key, { content: 'I prefer dark mode', user_id: 'f' });
    const light = await remember(a, key, { content: 'I prefer light mode', user_id: 'f' });
    expect(light.json.facts[0].superseded).toEqual([dark.json.facts[0].id]);
    const tea = await remember(a, key, { content: 'I like green tea', user_id: 'f' });
    const noTea = await remember(a, key, { content: "I don't like green tea", user_id: 'f' });
    expect(noTea.json.facts[0]).toMatchObject({ predicate: 'dislikes', superseded: [tea.json.facts[0].id] });
    const vim = await remember(a, key, { content: 'I use vim', user_id: 'f' });
    const emacs = await remember(a, key, { content: 'I use emacs', user_id: 'f' });
    expect(emacs.json.facts[0].superseded).toEqual([]); // uses is multi-valued
    expect(vim.json.facts[0].status).toBe('added');
  });
});

describe('deletion and erasure', () => {
  it('deletes one memory from Redis and from recall on every instance', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('del'));
    const res = await remember(a, key, { content: 'delete the marmalade memo' });
    const id = res.json.episode_id;
    expect(ids(await recall(b, key, { query: 'marmalade memo' }))).toContain(id);
    const deleted = await a.request('DELETE', `/v1/memory/${id}`, { token: key });
    expect(deleted.json).toEqual({ deleted: true, id, layer: 'episodic' });
    expect(ids(await recall(b, key, { query: 'marmalade memo' }))).not.toContain(id);
    expect(ids(await recall(a, key, { query: 'marmalade memo' }))).not.toContain(id);
    expect((await a.request('DELETE', `/v1/memory/${id}`, { token: key })).status).toBe(404);
    const invalid = await a.request('DELETE', '/v1/memory/bad%20id', { token: key });
    expect(invalid.status).toBe(400);
  });

  it('erases everything of one user across layers and namespaces, and nothing else', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('gdpr'));
    await remember(a, key, { content: 'I work at Initech', user_id: 'zed', agent_id: 'a1' });
    await remember(a, key, { content: 'zed walrus note', user_id: 'zed', agent_id: 'a2' });
    await remember(a, key, { content: 'walrus note of yolanda', user_id: 'yolanda' });
    const res = await a.request('DELETE', '/v1/users/zed', { token: key });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      deleted: 5,
      user_id: 'zed',
      working: 2,
      episodic: 2,
      semantic: 1,
      message: 'Erased 5 memories of user zed across all layers',
    });
    const left = await recall(b, key, { query: 'walrus note initech', top_k: 50, include: ['namespace'] });
    expect(left.json.results.length).toBeGreaterThan(0);
    for (const r of left.json.results) expect(r.user_id).toBe('yolanda');
    expect((await a.request('GET', '/v1/stats?user_id=zed', { token: key })).json).toMatchObject({
      working_entries: 0,
      episodic_records: 0,
      semantic_facts: 0,
    });
    expect((await a.request('DELETE', '/v1/users/zed', { token: key })).json).toMatchObject({
      deleted: 0,
      message: 'Erased 0 memories of user zed across all layers',
    });
  });

  it('answers 400 {detail, status} for an invalid user id and erases nothing', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('gdpr'));
    await remember(a, key, { content: 'I work at Initech', user_id: 'zed', agent_id: 'a1' });
    await remember(a, key, { content: 'walrus note of yolanda', user_id: 'yolanda' });
    const counts = async (query = '') => {
      const { json } = await a.request('GET', `/v1/stats${query}`, { token: key });
      return [json.working_entries, json.episodic_records, json.semantic_facts];
    };
    const before = { all: await counts(), zed: await counts('?user_id=zed') };
    expect(before.zed).toEqual([1, 1, 1]);
    const pattern = 'path.user_id must match pattern "^[A-Za-z0-9._:@+=/-]{1,128}$"';
    const invalid: [string, string][] = [
      ['zed%20', pattern], // a trailing space
      ['zed%7C', pattern], // "|", the namespace separator
      ['%7Czed', pattern],
      ['zed%7Ba1%7D', pattern],
      ['zed%00', pattern],
      ['z%C3%A9d', pattern], // non-ASCII
      ['u'.repeat(129), pattern],
      ['zed%E0%A4%A', 'path.user_id is not valid percent-encoding'],
    ];
    for (const [id, detail] of invalid) {
      const res = await a.request('DELETE', `/v1/users/${id}`, { token: key });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.json).toEqual({ detail, status: 400 });
    }
    expect({ all: await counts(), zed: await counts('?user_id=zed') }).toEqual(before);
  });
});

describe('GET /v1/stats', () => {
  it('counts this workspace only, in both documented shapes, optionally per namespace', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('st'));
    await remember(a, key, { content: 'I use Rust', agent_id: 'support-agent', user_id: 'p' });
    await remember(a, key, { content: 'hello', agent_id: 'sales-agent', user_id: 'q' });
    const res = await a.request('GET', '/v1/stats', { token: key });
    expect(res.json).toMatchObject({
      workspace_id: expect.stringMatching(/^st-/),
      working_entries: 2,
      episodic_records: 2,
      semantic_facts: 1,
      working: 2,
      episodic: 2,
      semantic: 1,
      last_write: expect.stringMatching(/^\d{4}-/),
      extraction_failures: 0,
    });
    expect(res.json.agents.sort()).toEqual(['sales-agent', 'support-agent']);
    const narrowed = await a.request('GET', '/v1/stats?user_id=p', { token: key });
    expect(narrowed.json).toMatchObject({ working_entries: 1, episodic_records: 1, semantic_facts: 1 });
    expect(narrowed.json.agents).toEqual(['support-agent']); // the agents of that user's memories only
    const byAgent = await a.request('GET', '/v1/stats?agent_id=sales-agent', { token: key });
    expect(byAgent.json).toMatchObject({ working_entries: 1, semantic_facts: 0, agents: ['sales-agent'] });
    const nobody = await a.request('GET', '/v1/stats?user_id=nobody', { token: key });
    expect(nobody.json).toMatchObject({ working_entries: 0, episodic_records: 0, agents: [] });
    const bad = await a.request('GET', '/v1/stats?user_id=a%20b', { token: key });
    expect(bad.status).toBe(400);
  });
});
