import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';
import { REFUSED, expectChallenge, type Refusal } from '../helpers/refusals.js';

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  // Two instances on one Redis, as behind a load balancer.
  a = await startServer();
  b = await startServer();
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

describe('POST /admin/keys', () => {
  it('creates a key shown once, in the documented shape', async () => {
    const workspace = uniqueWorkspace('acme');
    const res = await a.request('POST', '/admin/keys', {
      token: ADMIN_KEY,
      body: {
        workspace_id: workspace,
        label: 'production — support agent',
        env: 'test',
        rate_limit_rpm: 120,
      },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      key: expect.stringMatching(/^plm_test_[0-9a-f]{48}$/),
      key_id: expect.stringMatching(/^key_[0-9a-z]{26}$/),
      workspace_id: workspace,
      label: 'production — support agent',
      env: 'test',
      key_prefix: res.json.key.slice(0, 16) + '...',
      rate_limit_rpm: 120,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      last_used_at: null,
      is_active: true,
    });
  });

  it('defaults env to live and label to null', async () => {
    const res = await a.request('POST', '/admin/keys', {
      token: ADMIN_KEY,
      body: { workspace_id: uniqueWorkspace() },
    });
    expect(res.status).toBe(200);
    expect(res.json.env).toBe('live');
    expect(res.json.key).toMatch(/^plm_live_/);
    expect(res.json.label).toBeNull();
  });

  const badBodies: [string, unknown, RegExp][] = [
    ['missing workspace_id', {}, /workspace_id is required/],
    ['empty workspace_id', { workspace_id: '' }, /workspace_id must match pattern/],
    ['workspace_id over 64 chars', { workspace_id: 'w'.repeat(65) }, /workspace_id must match pattern/],
    ['workspace_id with a brace', { workspace_id: 'a{b}' }, /workspace_id must match pattern/],
    ['workspace_id with a space', { workspace_id: 'a b' }, /workspace_id must match pattern/],
    ['workspace_id a number', { workspace_id: 42 }, /workspace_id must be string/],
    ['label a number', { workspace_id: 'w', label: 7 }, /label must be string,null/],
    [
      'label over 200 chars',
      { workspace_id: 'w', label: 'x'.repeat(201) },
      /label must NOT have more than 200/,
    ],
    ['env unknown', { workspace_id: 'w', env: 'prod' }, /env must be one of: live, test/],
    ['rate_limit_rpm zero', { workspace_id: 'w', rate_limit_rpm: 0 }, /rate_limit_rpm must be >= 1/],
    [
      'rate_limit_rpm fractional',
      { workspace_id: 'w', rate_limit_rpm: 1.5 },
      /rate_limit_rpm must be integer/,
    ],
    [
      'rate_limit_rpm a string',
      { workspace_id: 'w', rate_limit_rpm: '10' },
      /rate_limit_rpm must be integer/,
    ],
    ['body an array', [], /body must be object/],
  ];
  for (const [name, body, detail] of badBodies) {
    it(`answers 400 for ${name}`, async () => {
      const res = await a.request('POST', '/admin/keys', { token: ADMIN_KEY, body });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ detail: expect.stringMatching(detail), status: 400 });
    });
  }

  it('refuses every credential but the admin key with 401', async () => {
    const layerKey = await createLayerKey(a, uniqueWorkspace());
    const refusals: [string | undefined, Refusal][] = [
      [undefined, REFUSED.missing],
      ['garbage', REFUSED.notAdminKey],
      [layerKey, REFUSED.workspaceKeyOn('admin')],
      [ADMIN_KEY + 'x', REFUSED.notAdminKey],
      [ADMIN_KEY.slice(0, -1), REFUSED.notAdminKey],
    ];
    for (const [token, refusal] of refusals) {
      const res = await a.request('POST', '/admin/keys', { token, body: { workspace_id: 'w' } });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ detail: refusal.detail, status: 401 });
    }
    const basic = await a.request('GET', '/admin/keys/w', {
      headers: { authorization: `Basic ${ADMIN_KEY}` },
    });
    expect(basic.status).toBe(401);
  });
});

describe('key lifecycle', () => {
  it('create, use, list newest first, revoke: 401 at once on every instance', async () => {
    const workspace = uniqueWorkspace('life');
    const first = await createLayerKey(a, workspace, { label: 'first' });
    const second = await createLayerKey(a, workspace, { label: 'second' });

    // Use the first key on both instances (both cache it).
    for (const server of [a, b]) {
      const me = await server.request('GET', '/v1/me', { token: first });
      expect(me.status).toBe(200);
      expect(me.json.workspace_id).toBe(workspace);
    }

    const list = await a.request('GET', `/admin/keys/${workspace}`, { token: ADMIN_KEY });
    expect(list.status).toBe(200);
    expect(list.json.map((k: { label: string }) => k.label)).toEqual(['second', 'first']);
    const used = list.json[1];
    expect(used).toEqual({
      key_id: expect.any(String),
      workspace_id: workspace,
      label: 'first',
      env: 'live',
      key_prefix: first.slice(0, 16) + '...',
      rate_limit_rpm: null,
      created_at: expect.any(String),
      last_used: expect.any(String),
      last_used_at: expect.any(String),
      is_active: true,
    });
    expect(used.last_used).toBe(used.last_used_at);
    expect(list.json[0].last_used_at).toBeNull();
    expect(list.text).not.toContain(first);
    expect(list.text).not.toContain(second);

    const revoked = await a.request('DELETE', `/admin/keys/${used.key_id}`, { token: ADMIN_KEY });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toEqual({ revoked: true, key_id: used.key_id });

    // Immediately refused on the instance that revoked it and on the other one, which had it cached.
    for (const server of [a, b]) {
      const me = await server.request('GET', '/v1/me', { token: first });
      expect(me.status).toBe(401);
      expect(me.json).toEqual({ detail: REFUSED.unknown.detail, status: 401 });
    }
    // The other key of the workspace still works.
    expect((await b.request('GET', '/v1/me', { token: second })).status).toBe(200);

    const after = await b.request('GET', `/admin/keys/${workspace}`, { token: ADMIN_KEY });
    expect(after.json.find((k: { key_id: string }) => k.key_id === used.key_id).is_active).toBe(false);

    // Revoking again is not an error; an unknown id is 404.
    expect((await a.request('DELETE', `/admin/keys/${used.key_id}`, { token: ADMIN_KEY })).status).toBe(200);
    const unknown = await a.request('DELETE', '/admin/keys/key_00000000000000000000000000', {
      token: ADMIN_KEY,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ detail: 'API key not found', status: 404 });
  });

  it('lists nothing for a workspace without keys and validates the workspace id', async () => {
    expect((await a.request('GET', `/admin/keys/${uniqueWorkspace()}`, { token: ADMIN_KEY })).json).toEqual(
      [],
    );
    const bad = await a.request('GET', '/admin/keys/bad%20name', { token: ADMIN_KEY });
    expect(bad.status).toBe(400);
    expect(bad.json.detail).toMatch(/path.workspace_id must match pattern/);
    const badId = await a.request('DELETE', '/admin/keys/key%24x', { token: ADMIN_KEY });
    expect(badId.status).toBe(400);
  });

  it('answers 401 for missing, garbled, unknown and malformed layer keys', async () => {
    const cases: [Record<string, string> | undefined, Refusal][] = [
      [undefined, REFUSED.missing],
      [{ authorization: 'Bearer' }, REFUSED.notBearer],
      [{ authorization: 'Token plm_live_' + 'a'.repeat(48) }, REFUSED.notBearer],
      [{ authorization: 'Bearer plm_live_' + 'a'.repeat(48) }, REFUSED.unknown],
      [{ authorization: 'Bearer plm_live_' + 'A'.repeat(48) }, REFUSED.notAKey('layer')],
      [{ authorization: 'Bearer plm_prod_' + 'a'.repeat(48) }, REFUSED.notAKey('layer')],
      [{ authorization: `Bearer ${ADMIN_KEY}` }, REFUSED.adminKeyOn('layer')],
    ];
    for (const [headers, refusal] of cases) {
      const res = await a.request('GET', '/v1/me', headers ? { headers } : {});
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ detail: refusal.detail, status: 401 });
      expectChallenge(res.headers, refusal);
    }
  });
});

describe('GET /admin/metrics', () => {
  it('reports memory and indexes to the admin key only', async () => {
    const key = await createLayerKey(a, uniqueWorkspace('metrics'));
    await a.request('POST', '/v1/remember', { token: key, body: { content: 'index me' } });
    await a.request('POST', '/v1/recall', { token: key, body: { query: 'index me' } });
    const res = await a.request('GET', '/admin/metrics', { token: ADMIN_KEY });
    expect(res.status).toBe(200);
    expect(res.json.rss_bytes).toBeGreaterThan(0);
    expect(res.json.indexes.workspaces).toBeGreaterThan(0);
    expect(res.json.indexes.by_workspace[0]).toMatchObject({
      docs: expect.any(Number),
      bytes: expect.any(Number),
    });
    expect((await a.request('GET', '/admin/metrics', { token: key })).status).toBe(401);
  });
});
