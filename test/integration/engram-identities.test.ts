import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer } from '../helpers/engram.js';
import { ADMIN_KEY, createLayerKey, type TestServer } from '../helpers/server.js';
import { REFUSED, type Refusal } from '../helpers/refusals.js';

/** Users, groups, memberships and API keys of the engram API, and how credentials authenticate. */
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  // Two instances on one Redis, as behind a load balancer: revocations must reach both at once.
  a = await startEngramServer();
  b = await startEngramServer();
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('admin endpoints', () => {
  it('provision a user, a group, a membership and a key in the documented shapes', async () => {
    const org = new Org(a);
    const user = await org.admin('POST', '/api/v1/admin/users', {
      username: 'alice',
      email: 'alice@example.com',
      display_name: 'Alice',
      role: 'editor',
    });
    expect(user.status).toBe(201);
    expect(user.json).toEqual({
      id: expect.stringMatching(/^usr_[0-9a-z]{26}$/),
      username: 'alice',
      email: 'alice@example.com',
      display_name: 'Alice',
      role: 'editor',
      active: true,
      created_at: iso,
      updated_at: iso,
    });

    const group = await org.admin('POST', '/api/v1/admin/groups', { name: 'platform' });
    expect(group.status).toBe(201);
    expect(group.json).toEqual({
      description: null,
      id: expect.stringMatching(/^grp_/),
      name: 'platform',
      scope: `group:${org.id}/platform`,
      parent_id: null,
      created_at: iso,
    });
    const sub = await org.admin('POST', '/api/v1/admin/groups', { name: 'infra', parent_id: group.json.id });
    expect(sub.json).toMatchObject({
      name: 'platform/infra',
      scope: `group:${org.id}/platform/infra`,
      parent_id: group.json.id,
    });
    const byPath = await org.admin('POST', '/api/v1/admin/groups', { name: 'platform/data' });
    expect(byPath.json.parent_id).toBe(group.json.id);

    const member = await org.admin('POST', `/api/v1/admin/groups/${group.json.id}/members`, {
      user_id: user.json.id,
      role: 'editor',
    });
    expect(member.status).toBe(201);
    expect(member.json).toEqual({ group_id: group.json.id, user_id: user.json.id, role: 'editor' });
    const changed = await org.admin('POST', `/api/v1/admin/groups/${group.json.id}/members`, {
      user_id: user.json.id,
      role: 'admin',
    });
    expect(changed.status).toBe(200);

    const key = await org.admin('POST', '/api/v1/admin/api-keys', { user_id: user.json.id, label: 'ci' });
    expect(key.status).toBe(201);
    expect(key.json).toEqual({
      id: expect.stringMatching(/^key_/),
      key: expect.stringMatching(/^plur_sk_[0-9a-f]{48}$/),
      user_id: user.json.id,
      label: 'ci',
      created_at: iso,
      expires_at: null,
      personal: false,
    });

    const users = await org.admin('GET', '/api/v1/admin/users');
    expect(users.json).toEqual({ rows: [user.json], total_count: 1 });
    const groups = await org.admin('GET', '/api/v1/admin/groups');
    expect(groups.json.total_count).toBe(3);
    expect(groups.json.rows[0]).toMatchObject({
      name: 'platform',
      members: [{ user_id: user.json.id, role: 'admin' }],
    });
    const keys = await org.admin('GET', '/api/v1/admin/api-keys');
    expect(keys.json.rows).toEqual([
      {
        id: key.json.id,
        user_id: user.json.id,
        label: 'ci',
        key_prefix: `${key.json.key.slice(0, 14)}...`,
        created_at: key.json.created_at,
        expires_at: null,
        last_used_at: null,
        revoked_at: null,
        active: true,
        personal: false,
      },
    ]);
    expect(keys.text).not.toContain(key.json.key);

    const me = await org.as(key.json.key, 'GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json).toEqual({
      username: 'alice',
      org_id: org.id,
      role: 'editor',
      // An admin-issued key does not open alice's personal scope (see engram-own-keys.test.ts).
      scopes: [
        `org:${org.id}`,
        'global',
        `group:${org.id}/platform`,
        `group:${org.id}/platform/data`,
        `group:${org.id}/platform/infra`,
      ],
      scope_metadata: [],
      credential: 'api_key',
    });

    const removed = await org.admin(
      'DELETE',
      `/api/v1/admin/groups/${group.json.id}/members/${user.json.id}`,
    );
    expect(removed.json).toEqual({ group_id: group.json.id, user_id: user.json.id, removed: true });
    const again = await org.admin('DELETE', `/api/v1/admin/groups/${group.json.id}/members/${user.json.id}`);
    expect(again.status).toBe(404);
    expect((await org.as(key.json.key, 'GET', '/api/v1/me')).json.scopes).toEqual([
      `org:${org.id}`,
      'global',
    ]);
  });

  it('audit every admin action in Redis, with the request id', async () => {
    const org = new Org(a);
    const res = await a.request('POST', '/api/v1/admin/users', {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': org.id, 'x-request-id': 'req-audit-1' },
      body: { username: 'bob', role: 'viewer' },
    });
    const entries = await a.services.audit.recent(org.id);
    expect(entries[0]).toEqual({
      id: expect.stringMatching(/^aud_/),
      ts: iso,
      org: org.id,
      actor: { type: 'admin', id: 'admin-key', username: 'admin' },
      action: 'user.create',
      target: { type: 'user', id: res.json.id },
      outcome: 'success',
      // The admin key's requests come through the admin channel; the address is the socket's peer.
      channel: 'admin',
      request_id: 'req-audit-1',
      ip: expect.any(String),
      user_agent: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string'),
      payload: null,
    });
  });

  it('refuse non-admins with 403 and audit the attempt', async () => {
    const org = new Org(a);
    const editor = await org.user('ed', 'editor');
    for (const [method, path, body] of [
      ['GET', '/api/v1/admin/users', undefined],
      ['POST', '/api/v1/admin/users', { username: 'x', role: 'admin' }],
      ['GET', '/api/v1/admin/groups', undefined],
      ['POST', '/api/v1/admin/groups', { name: 'g' }],
      ['GET', '/api/v1/admin/api-keys', undefined],
      ['POST', '/api/v1/admin/api-keys', { user_id: editor.id }],
      ['DELETE', '/api/v1/admin/api-keys/key_x', undefined],
      ['PATCH', `/api/v1/admin/users/${editor.id}`, { role: 'admin' }],
    ] as const) {
      const res = await org.as(editor, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.json.type).toBe('https://mnemo.dev/errors/insufficient-permission');
    }
    const denied = (await a.services.audit.recent(org.id)).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => e.action)).toContain('user.update');
    expect(denied.every((e) => e.actor.id === editor.id)).toBe(true);
  });

  it('let a user with the admin role administer their own organisation only', async () => {
    const org = new Org(a);
    const boss = await org.user('boss', 'admin');
    const res = await org.as(boss, 'POST', '/api/v1/admin/users', { username: 'new', role: 'viewer' });
    expect(res.status).toBe(201);
    const other = new Org(a);
    // The header does not move a user key to another organisation.
    const cross = await a.request('GET', '/api/v1/admin/users', {
      token: boss.key,
      headers: { 'x-mnemo-org': other.id },
    });
    expect(cross.json.rows.map((u: { username: string }) => u.username).sort()).toEqual(['boss', 'new']);
  });

  it('refuse duplicates and unknown references', async () => {
    const org = new Org(a);
    const user = await org.user('dup');
    expect((await org.admin('POST', '/api/v1/admin/users', { username: 'dup', role: 'viewer' })).status).toBe(
      409,
    );
    const group = await org.group('team');
    expect((await org.admin('POST', '/api/v1/admin/groups', { name: 'team' })).status).toBe(409);
    expect(
      (await org.admin('POST', '/api/v1/admin/groups', { name: 'x', parent_id: 'grp_nope' })).status,
    ).toBe(404);
    expect(
      (await org.admin('POST', `/api/v1/admin/groups/grp_nope/members`, { user_id: user.id, role: 'viewer' }))
        .status,
    ).toBe(404);
    expect(
      (
        await org.admin('POST', `/api/v1/admin/groups/${group.id}/members`, {
          user_id: 'usr_nope',
          role: 'viewer',
        })
      ).status,
    ).toBe(404);
    expect((await org.admin('POST', '/api/v1/admin/api-keys', { user_id: 'usr_nope' })).status).toBe(404);
    expect((await org.admin('PATCH', '/api/v1/admin/users/usr_nope', { role: 'viewer' })).status).toBe(404);
    expect((await org.admin('DELETE', '/api/v1/admin/api-keys/key_nope')).status).toBe(404);
  });

  it("treat another organisation's users, groups and keys as missing", async () => {
    const mine = new Org(a);
    const theirs = new Org(a);
    const user = await theirs.user('them');
    const group = await theirs.group('team');
    const keys = await theirs.admin('GET', '/api/v1/admin/api-keys');
    expect((await mine.admin('PATCH', `/api/v1/admin/users/${user.id}`, { active: false })).status).toBe(404);
    expect(
      (
        await mine.admin('POST', `/api/v1/admin/groups/${group.id}/members`, {
          user_id: user.id,
          role: 'admin',
        })
      ).status,
    ).toBe(404);
    expect((await mine.admin('POST', '/api/v1/admin/api-keys', { user_id: user.id })).status).toBe(404);
    expect((await mine.admin('DELETE', `/api/v1/admin/api-keys/${keys.json.rows[0].id}`)).status).toBe(404);
    expect((await theirs.as(user, 'GET', '/api/v1/me')).status).toBe(200);
    expect((await mine.admin('GET', '/api/v1/admin/users')).json.rows).toEqual([]);
  });

  const bad: [string, string, string, unknown, RegExp][] = [
    ['user without username', 'POST', '/api/v1/admin/users', { role: 'viewer' }, /username is required/],
    [
      'username with a space',
      'POST',
      '/api/v1/admin/users',
      { username: 'a b', role: 'viewer' },
      /username must match/,
    ],
    [
      'username too long',
      'POST',
      '/api/v1/admin/users',
      { username: 'u'.repeat(65), role: 'viewer' },
      /username must match/,
    ],
    [
      'unknown role',
      'POST',
      '/api/v1/admin/users',
      { username: 'x', role: 'owner' },
      /role must be one of: viewer, editor, admin/,
    ],
    [
      'bad email',
      'POST',
      '/api/v1/admin/users',
      { username: 'x', role: 'viewer', email: 'nope' },
      /email must match format/,
    ],
    ['group name with a space', 'POST', '/api/v1/admin/groups', { name: 'a b' }, /name must match/],
    ['group name a number', 'POST', '/api/v1/admin/groups', { name: 7 }, /name must be string/],
    ['empty user patch', 'PATCH', '/api/v1/admin/users/usr_x', {}, /fewer than 1/],
    [
      'user patch of an unknown field',
      'PATCH',
      '/api/v1/admin/users/usr_x',
      { owner: 'y' },
      /owner is not allowed/,
    ],
    [
      'member with an unknown role',
      'POST',
      '/api/v1/admin/groups/grp_x/members',
      { user_id: 'u', role: 'god' },
      /role must be one of/,
    ],
    [
      'key with a past expiry',
      'POST',
      '/api/v1/admin/api-keys',
      { user_id: 'usr_x', expires_at: '2001-01-01T00:00:00Z' },
      /expires_at must be in the future/,
    ],
    [
      'key with a malformed expiry',
      'POST',
      '/api/v1/admin/api-keys',
      { user_id: 'usr_x', expires_at: 'tomorrow' },
      /expires_at must match format/,
    ],
    [
      'key label too long',
      'POST',
      '/api/v1/admin/api-keys',
      { user_id: 'usr_x', label: 'l'.repeat(201) },
      /label must NOT have more than 200/,
    ],
  ];
  for (const [name, method, path, body, detail] of bad) {
    it(`answer 400 for ${name}`, async () => {
      const res = await new Org(a).admin(method, path, body);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(detail);
      expect(res.json.type).toBe('https://mnemo.dev/errors/validation-error');
    });
  }
});

describe('credentials', () => {
  it('reject missing, malformed, unknown and foreign tokens with 401 problem documents', async () => {
    const layerKey = await createLayerKey(a, 'some-ws');
    const tokens: [string | undefined, Refusal][] = [
      [undefined, REFUSED.missing],
      ['nope', REFUSED.notAKey('engram')],
      [`plur_sk_${'0'.repeat(48)}`, REFUSED.engramUnknown],
      ['plur_sk_short', REFUSED.notAKey('engram')],
      [layerKey, REFUSED.workspaceKeyOn('engram')],
      [`${ADMIN_KEY}x`, REFUSED.notAKey('engram')],
    ];
    for (const [token, refusal] of tokens) {
      const res = await a.request('GET', '/api/v1/me', token === undefined ? {} : { token });
      expect(res.status, String(token)).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.json).toEqual({
        type: 'https://mnemo.dev/errors/unauthorized',
        title: 'Unauthorized',
        status: 401,
        detail: refusal.detail,
        instance: '/api/v1/me',
      });
    }
    const basic = await a.request('GET', '/api/v1/me', { headers: { authorization: `Basic ${ADMIN_KEY}` } });
    expect(basic.status).toBe(401);
  });

  it('let the admin key act on X-Mnemo-Org, else on the default organisation', async () => {
    const org = new Org(a);
    const me = await org.admin('GET', '/api/v1/me');
    expect(me.json).toEqual({
      username: 'admin',
      org_id: org.id,
      role: 'admin',
      scopes: [`org:${org.id}`, 'global'],
      scope_metadata: [],
      credential: 'admin_key',
    });
    const fallback = await a.request('GET', '/api/v1/me', { token: ADMIN_KEY });
    expect(fallback.json.org_id).toBe('default');
    const bad = await a.request('GET', '/api/v1/me', {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': 'a{b}' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.detail).toMatch(/X-Mnemo-Org/);
  });

  it('stop a revoked key at once on every instance', async () => {
    const org = new Org(a);
    const user = await org.user('rev');
    expect((await a.request('GET', '/api/v1/me', { token: user.key })).status).toBe(200);
    expect((await b.request('GET', '/api/v1/me', { token: user.key })).status).toBe(200);
    const keys = await org.admin('GET', '/api/v1/admin/api-keys');
    const revoked = await org.admin('DELETE', `/api/v1/admin/api-keys/${keys.json.rows[0].id}`);
    expect(revoked.json).toEqual({ id: keys.json.rows[0].id, revoked: true });
    expect((await a.request('GET', '/api/v1/me', { token: user.key })).status).toBe(401);
    await expect
      .poll(async () => (await b.request('GET', '/api/v1/me', { token: user.key })).status)
      .toBe(401);
    expect((await org.admin('DELETE', `/api/v1/admin/api-keys/${keys.json.rows[0].id}`)).status).toBe(200);
    const listed = await org.admin('GET', '/api/v1/admin/api-keys');
    expect(listed.json.rows[0]).toMatchObject({ active: false, revoked_at: iso });
  });

  it("stop a deactivated user's keys at once on every instance, and restart them on reactivation", async () => {
    const org = new Org(a);
    const user = await org.user('gone');
    expect((await b.request('GET', '/api/v1/me', { token: user.key })).status).toBe(200);
    const off = await org.admin('PATCH', `/api/v1/admin/users/${user.id}`, { active: false });
    expect(off.json).toMatchObject({ id: user.id, active: false });
    expect((await a.request('GET', '/api/v1/me', { token: user.key })).status).toBe(401);
    await expect
      .poll(async () => (await b.request('GET', '/api/v1/me', { token: user.key })).status)
      .toBe(401);
    expect((await org.admin('POST', '/api/v1/admin/api-keys', { user_id: user.id })).status).toBe(422);
    await org.admin('PATCH', `/api/v1/admin/users/${user.id}`, { active: true });
    expect((await a.request('GET', '/api/v1/me', { token: user.key })).status).toBe(200);
  });

  it('apply role and membership changes to the next request on every instance', async () => {
    const org = new Org(a);
    const user = await org.user('mover', 'viewer');
    const group = await org.group('ops');
    expect((await b.request('GET', '/api/v1/me', { token: user.key })).json.role).toBe('viewer');
    await org.member(group.id, user, 'viewer');
    await org.admin('PATCH', `/api/v1/admin/users/${user.id}`, { role: 'editor' });
    await expect
      .poll(async () => (await b.request('GET', '/api/v1/me', { token: user.key })).json)
      .toMatchObject({ role: 'editor', scopes: expect.arrayContaining([`group:${org.id}/ops`]) });
  });

  it('refuse an expired key', async () => {
    const org = new Org(a);
    const created = await org.admin('POST', '/api/v1/admin/users', { username: 'tmp', role: 'viewer' });
    const soon = new Date(Date.now() + 1500).toISOString();
    const key = await org.admin('POST', '/api/v1/admin/api-keys', {
      user_id: created.json.id,
      expires_at: soon,
    });
    expect(key.json.expires_at).toBe(soon);
    expect((await a.request('GET', '/api/v1/me', { token: key.json.key })).status).toBe(200);
    await expect
      .poll(async () => (await a.request('GET', '/api/v1/me', { token: key.json.key })).status, {
        timeout: 5000,
      })
      .toBe(401);
  });

  it('let an admin not deactivate themselves', async () => {
    const org = new Org(a);
    const boss = await org.user('self', 'admin');
    const res = await org.as(boss, 'PATCH', `/api/v1/admin/users/${boss.id}`, { active: false });
    expect(res.status).toBe(422);
  });
});
