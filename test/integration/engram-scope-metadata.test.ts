import { orgTenant } from '../../src/tenant.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, PROBLEM_FIELDS, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/**
 * Scope metadata (plur.md §1.2): organisation admins describe scopes at /api/v1/admin/scopes/{scope}, and
 * /api/v1/me lists, as scope_metadata, the metadata of the scopes the caller reads, so the PLUR client's
 * covers-based routing works. Every change is one script with its event and audit entry.
 */
let server: TestServer;
let org: Org;
let member: TestUser; // editor of platform
let dbOnly: TestUser; // viewer of platform/db only
let platform: { id: string; scope: string };
let db: { id: string; scope: string };

const path = (scope: string) => `/api/v1/admin/scopes/${encodeURIComponent(scope)}`;
const PLATFORM_META = {
  description: 'The platform team: deploys, CI, the service mesh.',
  covers: ['deploys', 'ci', 'kubernetes'],
  sensitivity: { forbid: ['secrets'], allow: ['infra'] },
  injection_policy: 'on_match',
  owner: 'platform-leads',
};

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server, 'acme');
  [member, dbOnly] = await Promise.all([org.user('member', 'editor'), org.user('dba', 'viewer')]);
  platform = await org.group('platform');
  db = await org.group('db', platform.id);
  await org.member(platform.id, member, 'editor');
  await org.member(db.id, dbOnly, 'viewer');
});
afterAll(async () => {
  await server.close();
});

const meta = async (user: TestUser) => (await org.as(user, 'GET', '/api/v1/me')).json.scope_metadata;

describe('setting scope metadata', () => {
  it('creates (201), replaces (200), lists, and shows it in /me to those who read the scope', async () => {
    const created = await org.admin('PUT', path(platform.scope), PLATFORM_META);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ scope: platform.scope, ...PLATFORM_META });
    expect(created.json.updated_by).toEqual({ type: 'admin', id: 'admin-key' });
    // A short form names the caller's organisation; an absent sensitivity policy stays absent.
    const replaced = await org.admin('PUT', path('group:platform'), {
      description: 'The platform team.',
      covers: ['deploys'],
    });
    expect(replaced.status).toBe(200);
    expect(replaced.json.scope).toBe(platform.scope);
    expect(replaced.json).not.toHaveProperty('sensitivity');
    expect((await org.admin('PUT', path(platform.scope), PLATFORM_META)).status).toBe(200);
    const orgWide = await org.admin('PUT', path(`org:${org.id}`), {
      description: 'Everything about Acme.',
      sensitivity: {},
    });
    expect(orgWide.json).toMatchObject({
      covers: [],
      sensitivity: { forbid: ['secrets', 'infra'], allow: [] },
    });
    await org.admin('PUT', path(db.scope), { description: 'Databases.', covers: ['postgres'] });

    const listed = await org.admin('GET', '/api/v1/admin/scopes');
    expect(listed.json.total_count).toBe(3);
    expect(listed.json.rows.map((r: { scope: string }) => r.scope)).toEqual(
      [db.scope, platform.scope, `org:${org.id}`].sort(),
    );

    // Exactly the client's fields, for the readable scopes only.
    expect(await meta(member)).toEqual([
      { scope: platform.scope, ...PLATFORM_META },
      { scope: db.scope, description: 'Databases.', covers: ['postgres'] },
      {
        scope: `org:${org.id}`,
        description: 'Everything about Acme.',
        covers: [],
        sensitivity: { forbid: ['secrets', 'infra'], allow: [] },
      },
    ]);
    expect((await meta(dbOnly)).map((m: { scope: string }) => m.scope)).toEqual([db.scope, `org:${org.id}`]);
    const outsider = await org.user('outsider', 'viewer');
    expect((await meta(outsider)).map((m: { scope: string }) => m.scope)).toEqual([`org:${org.id}`]);
  });

  it('announces and audits every change in its own script', async () => {
    const fresh = new Org(server, 'audited');
    const team = await fresh.group('ops');
    const before = await server.services.events.lastId(orgTenant(fresh.id));
    await fresh.admin('PUT', path(team.scope), { description: 'Ops.' });
    await fresh.admin('DELETE', path(team.scope));
    const page = await server.services.events.read(orgTenant(fresh.id), before, 10);
    const events = page.events.map((e) => JSON.parse(e.json));
    expect(events.map((e) => e.type)).toEqual(['scope.metadata_set', 'scope.metadata_deleted']);
    expect(events[0].data).toMatchObject({ scope: team.scope, description: 'Ops.', covers: [] });
    expect(events[1].data).toEqual({ scope: team.scope });
    const audit = await server.services.audit.recent(fresh.id);
    expect(audit.map((e) => [e.action, e.outcome, e.target.id]).slice(0, 2)).toEqual([
      ['scope.metadata_delete', 'success', team.scope],
      ['scope.metadata_set', 'success', team.scope],
    ]);
  });

  it('removes metadata (then 404), and /me no longer shows it', async () => {
    const fresh = new Org(server, 'removal');
    const team = await fresh.group('web');
    const alice = await fresh.user('alice', 'viewer');
    await fresh.member(team.id, alice, 'viewer');
    await fresh.admin('PUT', path(team.scope), { description: 'Web.' });
    expect((await fresh.as(alice, 'GET', '/api/v1/me')).json.scope_metadata).toHaveLength(1);
    const removed = await fresh.admin('DELETE', path('group:web'));
    expect(removed.json).toEqual({ scope: team.scope, removed: true });
    expect((await fresh.as(alice, 'GET', '/api/v1/me')).json.scope_metadata).toEqual([]);
    const again = await fresh.admin('DELETE', path(team.scope));
    expect(again.status).toBe(404);
    expect(Object.keys(again.json)).toEqual(expect.arrayContaining(PROBLEM_FIELDS));
  });
});

describe('refusals, which write nothing', () => {
  const bad: [string, string, unknown, RegExp][] = [
    ['a description over 500 characters', 'group:platform', { description: 'x'.repeat(501) }, /description/],
    ['an empty description', 'group:platform', { description: '' }, /description/],
    ['a control character', 'group:platform', { description: 'line\nbreak' }, /description must match/],
    ['no description', 'group:platform', { covers: ['x'] }, /description is required/],
    ['33 covers', 'group:platform', { description: 'd', covers: Array(33).fill('x') }, /covers/],
    [
      'a cover over 120 characters',
      'group:platform',
      { description: 'd', covers: ['x'.repeat(121)] },
      /covers/,
    ],
    [
      'an unknown sensitivity category',
      'group:platform',
      { description: 'd', sensitivity: { forbid: ['pii'] } },
      /forbid/,
    ],
    [
      'an unknown injection policy',
      'group:platform',
      { description: 'd', injection_policy: 'never' },
      /injection_policy/,
    ],
    ['an unknown field', 'group:platform', { description: 'd', colour: 'red' }, /body.colour is not allowed/],
    ['a malformed scope', 'team:x', { description: 'd' }, /path\.scope must be/],
    ['a personal scope', 'user:acme:member', { description: 'd' }, /Personal scopes/],
  ];
  for (const [name, scope, body, detail] of bad) {
    it(`answers 400 for ${name}`, async () => {
      const before = await org.admin('GET', '/api/v1/admin/scopes');
      const res = await org.admin('PUT', path(scope.replace('acme', org.id)), body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.json.detail).toMatch(detail);
      expect((await org.admin('GET', '/api/v1/admin/scopes')).json).toEqual(before.json);
    });
  }

  it('answers 404 for a group that does not exist', async () => {
    const res = await org.admin('PUT', path('group:nowhere'), { description: 'd' });
    expect(res.status).toBe(404);
    expect(res.json.detail).toBe(`Scope group:${org.id}/nowhere not found: no such group`);
  });

  it('refuses non-admins with 403, audited as denied', async () => {
    const fresh = new Org(server, 'denied');
    const team = await fresh.group('web');
    const boss = await fresh.user('boss', 'editor');
    await fresh.member(team.id, boss, 'admin'); // a group admin is not an organisation admin
    for (const [method, body] of [
      ['PUT', { description: 'Mine now.' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await fresh.as(boss, method, path(team.scope), body);
      expect(res.status, method).toBe(403);
      expect(res.json.type).toBe('https://mnemo.dev/errors/insufficient-permission');
    }
    expect((await fresh.as(boss, 'GET', '/api/v1/admin/scopes')).status).toBe(403);
    expect((await fresh.admin('GET', '/api/v1/admin/scopes')).json.total_count).toBe(0);
    const denied = (await server.services.audit.recent(fresh.id)).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => e.action).sort()).toEqual(
      ['scope.metadata_delete', 'scope.metadata_list', 'scope.metadata_set'].sort(),
    );
  });

  it("keeps another organisation's scopes invisible", async () => {
    const rival = new Org(server, 'rival');
    const theirs = await rival.group('platform');
    await rival.admin('PUT', path(theirs.scope), { description: 'Rival platform.', covers: ['deploys'] });
    // Not in our lists or /me, and not reachable through our admin routes.
    expect(
      (await org.admin('GET', '/api/v1/admin/scopes')).json.rows.map((r: { scope: string }) => r.scope),
    ).not.toContain(theirs.scope);
    expect((await meta(member)).map((m: { scope: string }) => m.scope)).not.toContain(theirs.scope);
    for (const method of ['PUT', 'DELETE'] as const) {
      const res = await org.admin(
        method,
        path(theirs.scope),
        method === 'PUT' ? { description: 'x' } : undefined,
      );
      expect(res.status, method).toBe(404);
    }
    const still = await rival.admin('GET', '/api/v1/admin/scopes');
    expect(still.json.rows).toEqual([
      expect.objectContaining({ scope: theirs.scope, description: 'Rival platform.' }),
    ]);
  });
});
