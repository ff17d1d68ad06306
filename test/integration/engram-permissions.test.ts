import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, PROBLEM_FIELDS, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/**
 * The permission matrix of plur.md §1.10: who reads and writes which scope, and that a caller can never
 * tell an engram it may not see from one that does not exist (404, not in lists, recall or inject).
 */
let server: TestServer;
let org: Org;
let editor: TestUser; // editor member of platform
let viewer: TestUser; // viewer member of platform
let outsider: TestUser; // editor, member of nothing
let groupAdmin: TestUser; // admin member of platform/infra only
let orgAdmin: TestUser;
let platform: { id: string; scope: string };
let infra: { id: string; scope: string };
let teamEngram: { id: string };
let infraEngram: { id: string };
let privateEngram: { id: string };

const SECRET_WORDS = 'quokka zeppelin marmalade';

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server);
  [editor, viewer, outsider, groupAdmin, orgAdmin] = await Promise.all([
    org.user('editor', 'editor'),
    org.user('viewer', 'viewer'),
    org.user('outsider', 'editor'),
    org.user('infra-lead', 'editor'),
    org.user('boss', 'admin'),
  ]);
  platform = await org.group('platform');
  infra = await org.group('infra', platform.id);
  await org.member(platform.id, editor, 'editor');
  await org.member(platform.id, viewer, 'viewer');
  await org.member(infra.id, groupAdmin, 'admin');
  teamEngram = await org.engram(editor, {
    statement: `The platform team ${SECRET_WORDS} rule`,
    scope: platform.scope,
  });
  infraEngram = await org.engram(editor, { statement: `Infra ${SECRET_WORDS} runbook`, scope: infra.scope });
  privateEngram = await org.engram(editor, { statement: `My private ${SECRET_WORDS} note` });
});
afterAll(async () => {
  await server.close();
});

const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

describe('reading', () => {
  it('a member reads the group and its sub-groups; a non-member gets 404 in the same shape as missing', async () => {
    expect((await org.as(viewer, 'GET', `/api/v1/engrams/${teamEngram.id}`)).status).toBe(200);
    expect((await org.as(viewer, 'GET', `/api/v1/engrams/${infraEngram.id}`)).status).toBe(200);
    const hidden = await org.as(outsider, 'GET', `/api/v1/engrams/${teamEngram.id}`);
    const missing = await org.as(outsider, 'GET', '/api/v1/engrams/ENG-1999-01-01-001');
    expect(hidden.status).toBe(404);
    expect(Object.keys(hidden.json)).toEqual(Object.keys(missing.json));
    expect(hidden.json.detail).toBe(`Engram ${teamEngram.id} not found`);
    // A sub-group member does not read the parent group.
    expect((await org.as(groupAdmin, 'GET', `/api/v1/engrams/${teamEngram.id}`)).status).toBe(404);
    expect((await org.as(groupAdmin, 'GET', `/api/v1/engrams/${infraEngram.id}`)).status).toBe(200);
  });

  it('personal scopes stay personal, even for organisation admins', async () => {
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${privateEngram.id}`)).status).toBe(200);
    expect((await org.as(orgAdmin, 'GET', `/api/v1/engrams/${privateEngram.id}`)).status).toBe(404);
    expect((await org.admin('GET', `/api/v1/engrams/${privateEngram.id}`)).status).toBe(404);
    expect((await org.as(orgAdmin, 'GET', `/api/v1/engrams/${infraEngram.id}`)).status).toBe(200);
  });

  it('a non-member does not see group engrams in lists, recall or inject', async () => {
    const listed = await org.as(outsider, 'GET', '/api/v1/engrams?limit=200');
    expect(ids(listed.json.rows)).not.toContain(teamEngram.id);
    expect(listed.json.total_count).toBe(0);
    const byScope = await org.as(
      outsider,
      'GET',
      `/api/v1/engrams?scope=${encodeURIComponent(platform.scope)}`,
    );
    expect(byScope.json).toEqual({ rows: [], total_count: 0 });
    const recalled = await org.as(outsider, 'POST', '/api/v1/recall', { query: SECRET_WORDS });
    expect(recalled.json.results).toEqual([]);
    const bm25 = await org.as(outsider, 'POST', '/api/v1/recall/bm25', { query: SECRET_WORDS });
    expect(bm25.json.results).toEqual([]);
    const injected = await org.as(outsider, 'POST', '/api/v1/inject', { task: `Work on ${SECRET_WORDS}` });
    expect(injected.json.injected_ids).toEqual([]);
    const aimed = await org.as(outsider, 'POST', '/api/v1/inject', {
      task: SECRET_WORDS,
      scope: platform.scope,
    });
    expect(aimed.json.count).toBe(0);

    const member = await org.as(viewer, 'POST', '/api/v1/recall', { query: SECRET_WORDS });
    expect(ids(member.json.results).sort()).toEqual([infraEngram.id, teamEngram.id].sort());
    const memberInject = await org.as(viewer, 'POST', '/api/v1/inject', { task: `Work on ${SECRET_WORDS}` });
    expect(memberInject.json.injected_ids.sort()).toEqual([infraEngram.id, teamEngram.id].sort());
  });

  it('recall drops unreadable requested scopes and reports them, never a 403', async () => {
    const res = await org.as(outsider, 'POST', '/api/v1/recall', {
      query: SECRET_WORDS,
      scopes: [platform.scope, 'group:platform', `org:${org.id}`, 'user:elsewhere:bob', 'not a scope'],
    });
    expect(res.status).toBe(200);
    expect(res.json.effective_scopes).toEqual([`org:${org.id}`]);
    expect(res.json.dropped_scopes).toEqual([
      platform.scope,
      'group:platform',
      'user:elsewhere:bob',
      'not a scope',
    ]);
    expect(res.json.results).toEqual([]);
    const member = await org.as(viewer, 'POST', '/api/v1/recall', {
      query: SECRET_WORDS,
      scopes: ['group:platform'],
    });
    expect(member.json.effective_scopes).toEqual([platform.scope]);
    expect(member.json.dropped_scopes).toEqual([]);
    expect(ids(member.json.results).sort()).toEqual([infraEngram.id, teamEngram.id].sort());
    const none = await org.as(viewer, 'POST', '/api/v1/recall', { query: SECRET_WORDS, scopes: [] });
    expect(none.json).toMatchObject({ results: [], effective_scopes: [], dropped_scopes: [] });
  });
});

describe('writing', () => {
  it('a viewer cannot write: 403 on create and on every change of an engram it reads', async () => {
    const create = await org.as(viewer, 'POST', '/api/v1/engrams', {
      statement: 'Viewer write',
      scope: platform.scope,
    });
    expect(create.status).toBe(403);
    expect((await org.as(viewer, 'POST', '/api/v1/engrams', { statement: 'Own scope write' })).status).toBe(
      403,
    );
    const path = `/api/v1/engrams/${teamEngram.id}`;
    const changes: [string, string, unknown, string][] = [
      ['PATCH', path, { tags: ['x'] }, `User does not have write access to scope ${platform.scope}.`],
      ['DELETE', path, undefined, `User does not have write access to scope ${platform.scope}.`],
      ['POST', `${path}/promote`, undefined, `User does not have write access to scope ${platform.scope}.`],
      ['POST', `${path}/pin`, {}, `Pinning needs the admin role in scope ${platform.scope}.`],
    ];
    for (const [method, url, body, detail] of changes) {
      const res = await org.as(viewer, method, url, body);
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(Object.keys(res.json)).toEqual(PROBLEM_FIELDS);
      expect(res.json).toMatchObject({
        type: 'https://mnemo.dev/errors/insufficient-permission',
        title: 'Insufficient permission',
        status: 403,
        detail,
        instance: url,
      });
    }
    // Feedback is a signal, not an edit: readers may give it.
    expect((await org.as(viewer, 'POST', `${path}/feedback`, { signal: 'neutral' })).status).toBe(200);
    expect((await org.as(outsider, 'POST', `${path}/feedback`, { signal: 'neutral' })).status).toBe(404);
    expect((await org.as(viewer, 'GET', path)).json.data.engram_version).toBe(2);
    expect((await org.as(viewer, 'GET', path)).json).toMatchObject({ status: 'active', data: { tags: [] } });
  });

  it('a caller who cannot read the engram gets 404 on every change, never 403', async () => {
    const elsewhere = new Org(server, 'elsewhere');
    const path = `/api/v1/engrams/${teamEngram.id}`;
    const changes: [string, string, unknown][] = [
      ['PATCH', path, { tags: ['x'] }],
      ['PATCH', path, { pinned: true }],
      ['DELETE', path, undefined],
      ['POST', `${path}/promote`, undefined],
      ['POST', `${path}/pin`, {}],
    ];
    const missing = await org.as(outsider, 'DELETE', '/api/v1/engrams/ENG-1999-01-01-001');
    for (const [method, url, body] of changes) {
      // A member of nothing, a sub-group admin (does not read the parent group), another organisation's admin.
      for (const res of [
        await org.as(outsider, method, url, body),
        await org.as(groupAdmin, method, url, body),
        await elsewhere.admin(method, url, body),
      ]) {
        expect(res.status, `${method} ${url}`).toBe(404);
        expect(Object.keys(res.json)).toEqual(Object.keys(missing.json));
        expect(res.json.detail).toBe(`Engram ${teamEngram.id} not found`);
      }
    }
    // The private engram of a user is invisible to the organisation's admins too.
    expect((await org.as(orgAdmin, 'DELETE', `/api/v1/engrams/${privateEngram.id}`)).status).toBe(404);
    expect((await org.admin('PATCH', `/api/v1/engrams/${privateEngram.id}`, { tags: ['x'] })).status).toBe(
      404,
    );
    const team = await org.as(viewer, 'GET', path);
    expect(team.json).toMatchObject({ status: 'active', data: { tags: [], pinned: false } });
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${privateEngram.id}`)).json.data.tags).toEqual([]);
  });

  it('an editor member writes the group and its sub-groups and projects', async () => {
    expect(
      (await org.as(editor, 'POST', '/api/v1/engrams', { statement: 'Sub-group write', scope: infra.scope }))
        .status,
    ).toBe(201);
    expect(
      (
        await org.as(editor, 'POST', '/api/v1/engrams', {
          statement: 'Project write',
          scope: 'project:' + org.id + '/platform/api',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await org.as(outsider, 'POST', '/api/v1/engrams', {
          statement: 'Outsider write',
          scope: platform.scope,
        })
      ).status,
    ).toBe(403);
    expect(
      (await org.as(outsider, 'POST', '/api/v1/engrams', { statement: 'Org write', scope: `org:${org.id}` }))
        .status,
    ).toBe(201);
    expect(
      (await org.as(outsider, 'POST', '/api/v1/engrams', { statement: 'Other org', scope: 'org:elsewhere' }))
        .status,
    ).toBe(403);
    expect(
      (
        await org.as(outsider, 'POST', '/api/v1/engrams', {
          statement: 'Their scope',
          scope: `user:${org.id}:editor`,
        })
      ).status,
    ).toBe(403);
  });
});

describe('pinning', () => {
  it('needs the admin role in the scope; every attempt is audited', async () => {
    const path = `/api/v1/engrams/${infraEngram.id}/pin`;
    // The editor reads and writes the engram, so it is told why: 403, not 404.
    const denied = await org.as(editor, 'POST', path, {});
    expect(denied.status).toBe(403);
    expect(denied.json.detail).toBe(`Pinning needs the admin role in scope ${infra.scope}.`);
    const deniedPatch = await org.as(editor, 'PATCH', `/api/v1/engrams/${infraEngram.id}`, { pinned: true });
    expect(deniedPatch.status).toBe(403);
    expect(deniedPatch.json.type).toBe('https://mnemo.dev/errors/insufficient-permission');
    expect(
      (
        await org.as(editor, 'POST', '/api/v1/engrams', {
          statement: 'Pinned on create',
          scope: platform.scope,
          pinned: true,
        })
      ).status,
    ).toBe(403);

    const pinned = await org.as(groupAdmin, 'POST', path, {});
    expect(pinned.status).toBe(200);
    expect(pinned.json.engram.data.pinned).toBe(true);
    const unpinned = await org.as(orgAdmin, 'POST', path, { pinned: false });
    expect(unpinned.json.engram.data.pinned).toBe(false);
    const viaPatch = await org.as(orgAdmin, 'PATCH', `/api/v1/engrams/${infraEngram.id}`, { pinned: true });
    expect(viaPatch.json.engram.data.pinned).toBe(true);
    // A group admin pins in their group only.
    expect((await org.as(groupAdmin, 'POST', `/api/v1/engrams/${teamEngram.id}/pin`, {})).status).toBe(404);
    const created = await org.as(groupAdmin, 'POST', '/api/v1/engrams', {
      statement: 'Born pinned',
      scope: infra.scope,
      pinned: true,
    });
    expect(created.status).toBe(201);

    // (The viewer's earlier attempt is in the trail too; this test looks at its own.)
    const audit = (await server.services.audit.recent(org.id)).filter(
      (e) =>
        (e.action === 'engram.pin' ||
          e.action === 'engram.unpin' ||
          (e.action === 'engram.create' && e.payload?.pinned === true)) &&
        e.actor.id !== viewer.id,
    );
    const summary = audit.map((e) => [e.action, e.outcome, e.actor.id, e.target.id]).reverse();
    // The group admin's attempt on the parent group's engram is a plain 404: they cannot even see it.
    expect(summary).toEqual([
      ['engram.pin', 'denied', editor.id, infraEngram.id],
      ['engram.pin', 'denied', editor.id, infraEngram.id],
      ['engram.pin', 'denied', editor.id, platform.scope],
      ['engram.pin', 'success', groupAdmin.id, infraEngram.id],
      ['engram.unpin', 'success', orgAdmin.id, infraEngram.id],
      ['engram.pin', 'success', orgAdmin.id, infraEngram.id],
      // A pinned create is one entry, engram.create, saying it was pinned.
      ['engram.create', 'success', groupAdmin.id, created.json.id],
    ]);
  });
});
