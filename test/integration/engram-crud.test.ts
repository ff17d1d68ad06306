import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/** POST/GET/PATCH/DELETE /api/v1/engrams and GET /api/v1/engrams: wire shapes, ids, dedup, validation. */
let server: TestServer;
let org: Org;
let alice: TestUser;
let team: { id: string; scope: string };

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server);
  alice = await org.user('alice', 'editor');
  team = await org.group('platform');
  await org.member(team.id, alice, 'editor');
});
afterAll(async () => {
  await server.close();
});

const today = () => new Date().toISOString().slice(0, 10);
const ID = /^ENG-\d{4}-\d\d-\d\d-\d{3,}$/;
const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);

describe('POST /api/v1/engrams', () => {
  it('creates an engram in the documented shape: server id, content hash, status active, open data', async () => {
    const res = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'Deploys must run migrations first.',
      type: 'procedural',
      scope: 'group:platform',
      domain: 'software.deployment',
      tags: ['deploy', 'migrations'],
      rationale: 'Schema drift breaks rollbacks.',
      valid_from: '2020-01-01',
      valid_until: '2999-12-31',
      source: 'postmortem-42',
      measured_under: { model: 'x', dataset: [], nested: { list: [1, 2], empty: {} } },
      polarity: 'do',
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.json).sort()).toEqual(['data', 'id', 'scope', 'status']);
    expect(res.json.id).toMatch(ID);
    expect(res.json.id.slice(4, 14)).toBe(today());
    expect(res.json.scope).toBe(`group:${org.id}/platform`);
    expect(res.json.status).toBe('active');
    expect(res.json.data).toEqual({
      id: res.json.id,
      statement: 'Deploys must run migrations first.',
      type: 'procedural',
      scope: `group:${org.id}/platform`,
      status: 'active',
      domain: 'software.deployment',
      tags: ['deploy', 'migrations'],
      rationale: 'Schema drift breaks rollbacks.',
      pinned: false,
      commitment: 'leaning',
      locked_reason: null,
      valid_from: '2020-01-01',
      valid_until: '2999-12-31',
      supersedes: [],
      source: 'postmortem-42',
      session_id: null,
      content_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      write_count: 1,
      retrieval_strength: 0.7,
      feedback_signals: { positive: 0, negative: 0, neutral: 0 },
      activation: { retrieval_strength: 0.7, storage_strength: 1, frequency: 0, last_accessed: null },
      injection_count: 0,
      engram_version: 1,
      created_at: iso,
      updated_at: iso,
      measured_under: { model: 'x', dataset: [], nested: { list: [1, 2], empty: {} } },
      polarity: 'do',
    });
  });

  it('keeps unknown fields, empty lists and any text exactly through changes made in Lua', async () => {
    const open = {
      measured_under: {
        model: 'x',
        dataset: [],
        nested: { list: [], empty: {} },
        precise: 0.12345678901234567,
      },
      big: 12345678901234567890,
      unicode: 'naïve 東京 🚀 "quoted" / slash \\ back',
    };
    const created = await org.engram(alice, {
      statement: 'Unicode survives: 東京, émoji 🚀, "quotes" and \\backslashes/.',
      tags: [],
      supersedes: [],
      ...open,
    });
    // Feedback, pin-free bookkeeping (recall) and retire are decoded and re-encoded by Lua scripts.
    await org.as(alice, 'POST', `/api/v1/engrams/${created.id}/feedback`, { signal: 'positive' });
    await org.as(alice, 'POST', '/api/v1/recall', { query: 'unicode survives' });
    await org.as(alice, 'DELETE', `/api/v1/engrams/${created.id}`);
    const read = await org.as(alice, 'GET', `/api/v1/engrams/${created.id}`);
    expect(read.json.data).toMatchObject({
      ...open,
      statement: created.data.statement,
      tags: [],
      supersedes: [],
    });
    expect(read.json.data.measured_under.precise).toBe(0.12345678901234567);
    expect(read.json.data.engram_version).toBe(3);
  });

  it('defaults the scope to your own, the type to behavioral and the tags to none', async () => {
    const res = await org.as(alice, 'POST', '/api/v1/engrams', { statement: 'Prefer small pull requests.' });
    expect(res.status).toBe(201);
    expect(res.json.scope).toBe(`user:${org.id}:alice`);
    expect(res.json.data).toMatchObject({ type: 'behavioral', tags: [], domain: null });
  });

  it('treats the same statement in the same scope as a re-learn: 200, the same engram, write_count + 1', async () => {
    const first = await org.engram(alice, { statement: 'Feature flags default to off.', scope: team.scope });
    const again = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: '  feature FLAGS default to off ',
      scope: team.scope,
      type: 'architectural',
    });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(first.id);
    expect(again.json.data.write_count).toBe(2);
    expect(again.json.data.type).toBe(first.data.type);
    const elsewhere = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'Feature flags default to off.',
    });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.json.id).not.toBe(first.id);
  });

  it('accepts a client id once and answers 409 when it exists', async () => {
    const id = `ENG-PACK-T-${Date.now()}`;
    const created = await org.as(alice, 'POST', '/api/v1/engrams', { id, statement: 'Client ids are kept.' });
    expect(created.status).toBe(201);
    expect(created.json.id).toBe(id);
    const clash = await org.as(alice, 'POST', '/api/v1/engrams', {
      id,
      statement: 'Something else entirely.',
    });
    expect(clash.status).toBe(409);
    expect(clash.json.type).toBe('https://mnemo.dev/errors/conflict');
  });

  it('gives parallel creates distinct, consecutive ids', async () => {
    const fresh = new Org(server, 'par');
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        fresh.admin('POST', '/api/v1/engrams', { statement: `Parallel rule number ${i}` }),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const numbers = results.map((r) => Number(r.json.id.split('-').pop())).sort((x, y) => x - y);
    expect(numbers).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('refuses secrets aimed at a shared scope with 422 and keeps them in your own scope', async () => {
    const shared = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'The staging database is postgres://app:hunter22@db.staging:5432/main',
      scope: team.scope,
    });
    expect(shared.status).toBe(422);
    expect(shared.json.detail).toMatch(/secret \(credentials in a URL/);
    const inTags = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'Use the shared key',
      scope: team.scope,
      tags: ['AKIAIOSFODNN7EXAMPLE'],
    });
    expect(inTags.status).toBe(422);
    const inExtra = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'Call the API',
      scope: `org:${org.id}`,
      notes: { auth: 'Bearer abcdefghijklmnopqrstuvwxyz' },
    });
    expect(inExtra.status).toBe(422);
    const own = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'My staging database is postgres://app:hunter22@db.staging:5432/main',
    });
    expect(own.status).toBe(201);
  });

  it('refuses a write into a scope you cannot write with 403 insufficient-permission', async () => {
    const res = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'x',
      scope: 'group:secret-team',
    });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({
      type: 'https://mnemo.dev/errors/insufficient-permission',
      title: 'Insufficient permission',
      status: 403,
      detail: `User does not have write access to scope group:${org.id}/secret-team.`,
      instance: '/api/v1/engrams',
    });
  });

  const bad: [string, unknown, RegExp][] = [
    ['no statement', { type: 'procedural' }, /statement is required/],
    ['an empty statement', { statement: '' }, /statement must NOT have fewer than 1/],
    [
      'a statement over 5000 characters',
      { statement: 's'.repeat(5001) },
      /statement must NOT have more than 5000/,
    ],
    ['a numeric statement', { statement: 42 }, /statement must be string/],
    [
      'an unknown type',
      { statement: 's', type: 'semantic' },
      /type must be one of: behavioral, terminological/,
    ],
    ['tags that are not a list', { statement: 's', tags: 'a,b' }, /tags must be array/],
    [
      'too many tags',
      { statement: 's', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) },
      /tags must NOT have more than 50/,
    ],
    ['a tag with a control character', { statement: 's', tags: ['a\u0001'] }, /tags\.0 must match pattern/],
    ['a malformed domain', { statement: 's', domain: 'a..b' }, /domain must match pattern/],
    ['a malformed scope', { statement: 's', scope: 'team:x' }, /body\.scope must be global, org:<org>/],
    [
      'a malformed validity date',
      { statement: 's', valid_from: 'yesterday' },
      /valid_from must match pattern/,
    ],
    [
      'an impossible validity date',
      { statement: 's', valid_until: '2026-13-45' },
      /valid_until is not a valid date/,
    ],
    [
      'a window that ends before it starts',
      { statement: 's', valid_from: '2030-01-01', valid_until: '2020-01-01' },
      /valid_from must not be after valid_until/,
    ],
    ['an unknown commitment', { statement: 's', commitment: 'maybe' }, /commitment must be one of/],
    ['a non-boolean pinned', { statement: 's', pinned: 'yes' }, /pinned must be boolean/],
    ['a malformed client id', { statement: 's', id: 'my id' }, /id must match pattern/],
    ['a malformed supersedes id', { statement: 's', supersedes: ['x'] }, /supersedes\.0 must match pattern/],
    [
      'a server-owned field',
      { statement: 's', retrieval_strength: 1 },
      /retrieval_strength is managed by the server/,
    ],
    ['a status', { statement: 's', status: 'candidate' }, /status is managed by the server/],
    ['oversized unknown fields', { statement: 's', blob: 'x'.repeat(20_000) }, /at most 16384 bytes/],
  ];
  for (const [name, body, detail] of bad) {
    it(`answers 400 for ${name}`, async () => {
      const res = await org.as(alice, 'POST', '/api/v1/engrams', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.json.detail).toMatch(detail);
    });
  }

  it('answers 400 for a body that is not JSON and 413 for one over the limit', async () => {
    const notJson = await server.request('POST', '/api/v1/engrams', {
      token: alice.key,
      rawBody: '{"statement":',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    const huge = await server.request('POST', '/api/v1/engrams', {
      token: alice.key,
      rawBody: JSON.stringify({ statement: 'x'.repeat(1_100_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.status).toBe(413);
    expect(huge.json.type).toBe('https://mnemo.dev/errors/payload-too-large');
  });
});

describe('GET, PATCH, DELETE /api/v1/engrams/{id}', () => {
  it('reads a row, changes fields, and retires softly', async () => {
    const created = await org.engram(alice, {
      statement: 'Logs go to stdout.',
      scope: team.scope,
      tags: ['logging'],
      extra: { keep: true, drop: 1 },
    });
    const read = await org.as(alice, 'GET', `/api/v1/engrams/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.json).toEqual({
      ...created,
      created_at: created.data.created_at,
      updated_at: created.data.updated_at,
    });

    const patched = await org.as(alice, 'PATCH', `/api/v1/engrams/${created.id}`, {
      statement: 'Logs go to stdout as JSON lines.',
      tags: [],
      domain: 'ops.logging',
      extra: null,
      added: [],
    });
    expect(patched.status).toBe(200);
    expect(Object.keys(patched.json)).toEqual(['engram']);
    const engram = patched.json.engram;
    expect(engram).toMatchObject({ id: created.id, scope: team.scope, status: 'active' });
    expect(engram.data).toMatchObject({
      statement: 'Logs go to stdout as JSON lines.',
      tags: [],
      domain: 'ops.logging',
      added: [],
      engram_version: 2,
    });
    expect(engram.data.extra).toBeUndefined();
    expect(engram.data.content_hash).not.toBe(created.data.content_hash);

    const retired = await org.as(alice, 'DELETE', `/api/v1/engrams/${created.id}`);
    expect(retired.status).toBe(200);
    expect(retired.json).toEqual({ id: created.id, scope: team.scope, status: 'retired' });
    expect((await org.as(alice, 'GET', `/api/v1/engrams/${created.id}`)).json.status).toBe('retired');
    expect((await org.as(alice, 'DELETE', `/api/v1/engrams/${created.id}`)).status).toBe(200);
    // Retired engrams leave the duplicate index: the statement can be learned again.
    const relearned = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'Logs go to stdout as JSON lines.',
      scope: team.scope,
    });
    expect(relearned.status).toBe(201);
    // ...and restoring the retired one would now duplicate it.
    const restore = await org.as(alice, 'PATCH', `/api/v1/engrams/${created.id}`, { status: 'active' });
    expect(restore.status).toBe(409);
  });

  it('validates status transitions', async () => {
    const created = await org.engram(alice, { statement: 'Transitions are checked.', scope: team.scope });
    const path = `/api/v1/engrams/${created.id}`;
    expect((await org.as(alice, 'PATCH', path, { status: 'candidate' })).status).toBe(409);
    expect((await org.as(alice, 'PATCH', path, { status: 'dormant' })).json.engram.status).toBe('dormant');
    expect((await org.as(alice, 'PATCH', path, { status: 'active' })).json.engram.status).toBe('active');
    expect((await org.as(alice, 'PATCH', path, { status: 'retired' })).json.engram.status).toBe('retired');
    expect((await org.as(alice, 'PATCH', path, { status: 'dormant' })).status).toBe(409);
    expect((await org.as(alice, 'PATCH', path, { status: 'active' })).json.engram.status).toBe('active');
  });

  it('moves an engram between scopes you can write, and not into one you cannot', async () => {
    const created = await org.engram(alice, { statement: 'Moving scopes works.' });
    const path = `/api/v1/engrams/${created.id}`;
    const moved = await org.as(alice, 'PATCH', path, { scope: 'group:platform' });
    expect(moved.json.engram.scope).toBe(team.scope);
    expect((await org.as(alice, 'PATCH', path, { scope: 'group:elsewhere' })).status).toBe(403);
  });

  it('applies concurrent changes without losing any', async () => {
    const created = await org.engram(alice, { statement: 'Concurrent patches all land.' });
    const path = `/api/v1/engrams/${created.id}`;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => org.as(alice, 'PATCH', path, { [`field_${i}`]: i })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const read = await org.as(alice, 'GET', path);
    for (let i = 0; i < 6; i++) expect(read.json.data[`field_${i}`]).toBe(i);
    expect(read.json.data.engram_version).toBe(7);
  });

  const badPatches: [string, unknown, number, RegExp][] = [
    ['an empty body', {}, 400, /fewer than 1 properties/],
    ['a changed id', { id: 'ENG-2000-01-01-001' }, 400, /id cannot be changed/],
    ['a server-owned field', { write_count: 9 }, 400, /write_count is managed by the server/],
    ['an unknown status', { status: 'archived' }, 400, /status must be one of/],
    ['a null statement', { statement: null }, 400, /statement must be string/],
    ['a secret into a shared scope', { statement: 'password=hunter22' }, 422, /secret/],
  ];
  for (const [name, body, status, detail] of badPatches) {
    it(`answers ${status} to a PATCH with ${name}`, async () => {
      const created = await org.engram(alice, { statement: `Patch target for ${name}`, scope: team.scope });
      const res = await org.as(alice, 'PATCH', `/api/v1/engrams/${created.id}`, body);
      expect(res.status).toBe(status);
      expect(res.json.detail).toMatch(detail);
    });
  }

  it('answers 404 in the same shape for missing ids and 400 for malformed ones', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const res = await org.as(
        alice,
        method,
        '/api/v1/engrams/ENG-1999-01-01-999',
        method === 'PATCH' ? { tags: [] } : undefined,
      );
      expect(res.status).toBe(404);
      expect(res.json).toEqual({
        type: 'https://mnemo.dev/errors/not-found',
        title: 'Not found',
        status: 404,
        detail: 'Engram ENG-1999-01-01-999 not found',
        instance: '/api/v1/engrams/ENG-1999-01-01-999',
      });
    }
    expect((await org.as(alice, 'GET', '/api/v1/engrams/not%20an%20id')).status).toBe(400);
  });

  it("answers 404 for another organisation's engram", async () => {
    const other = new Org(server, 'other');
    // Ids count per organisation and day, so both have an ENG-<today>-001; a chosen id exists only there.
    const theirs = await other.engram(null, { statement: 'Their engram.', id: `ENG-THEIRS-${Date.now()}` });
    expect((await org.as(alice, 'GET', `/api/v1/engrams/${theirs.id}`)).status).toBe(404);
    expect((await org.admin('GET', `/api/v1/engrams/${theirs.id}`)).status).toBe(404);
    expect((await org.admin('DELETE', `/api/v1/engrams/${theirs.id}`)).status).toBe(404);
    expect((await other.admin('GET', `/api/v1/engrams/${theirs.id}`)).status).toBe(200);
  });
});

describe('GET /api/v1/engrams', () => {
  it('pages through the readable engrams oldest first with total_count', async () => {
    const fresh = new Org(server, 'list');
    const bob = await fresh.user('bob');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await fresh.engram(bob, { statement: `Listed engram ${i}` })).id);
    const first = await fresh.as(bob, 'GET', '/api/v1/engrams?limit=3');
    expect(first.json.total_count).toBe(7);
    expect(first.json.rows.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 3));
    expect(Object.keys(first.json.rows[0]).sort()).toEqual([
      'created_at',
      'data',
      'id',
      'scope',
      'status',
      'updated_at',
    ]);
    const last = await fresh.as(bob, 'GET', '/api/v1/engrams?limit=3&offset=6');
    expect(last.json.rows.map((r: { id: string }) => r.id)).toEqual(ids.slice(6));
    const past = await fresh.as(bob, 'GET', '/api/v1/engrams?offset=100');
    expect(past.json).toEqual({ rows: [], total_count: 7 });
    await fresh.as(bob, 'DELETE', `/api/v1/engrams/${ids[0]}`);
    expect((await fresh.as(bob, 'GET', '/api/v1/engrams?status=retired')).json.total_count).toBe(1);
    expect((await fresh.as(bob, 'GET', '/api/v1/engrams?status=active')).json.total_count).toBe(6);
    const scoped = await fresh.as(
      bob,
      'GET',
      `/api/v1/engrams?scope=${encodeURIComponent(`user:${fresh.id}:bob`)}&limit=200`,
    );
    expect(scoped.json.total_count).toBe(7);
    expect((await fresh.as(bob, 'GET', `/api/v1/engrams?scope=org:${fresh.id}`)).json.total_count).toBe(0);
  });

  const badQueries: [string, RegExp][] = [
    ['limit=201', /limit must be <= 200/],
    ['limit=1000', /limit must be <= 200/],
    ['limit=0', /limit must be >= 1/],
    ['limit=ten', /limit must be integer/],
    ['offset=-1', /offset must be >= 0/],
    ['status=gone', /status must be one of/],
    ['scope=team:x', /query\.scope must be global/],
  ];
  for (const [query, detail] of badQueries) {
    it(`answers 400 for ?${query}`, async () => {
      const res = await org.as(alice, 'GET', `/api/v1/engrams?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.json).toMatchObject({
        type: 'https://mnemo.dev/errors/validation-error',
        title: 'Validation error',
        status: 400,
        instance: '/api/v1/engrams',
      });
      expect(res.json.detail).toMatch(detail);
    });
  }
});
