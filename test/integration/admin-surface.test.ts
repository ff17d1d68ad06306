import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, PROBLEM_FIELDS, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/**
 * The rest of the admin surface over real HTTP: users by id (read, rename, deactivate), groups by id (read,
 * describe, delete), group members, and limit/offset pages on the lists that grow; bad input, permissions
 * and another organisation's ids answer problems with nothing changed.
 */
let server: TestServer;
let org: Org;
let other: Org;
let alice: TestUser;
let viewer: TestUser;

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server, 'surface');
  other = new Org(server, 'elsewhere');
  alice = await org.user('alice', 'editor');
  viewer = await org.user('victor', 'viewer');
});

afterAll(async () => {
  await server?.close();
});

const expectProblem = (res: { status: number; json: Record<string, unknown> }, status: number): void => {
  expect(res.status).toBe(status);
  expect(Object.keys(res.json).sort()).toEqual([...PROBLEM_FIELDS].sort());
};

describe('users by id', () => {
  it('reads a user, renames them, and refuses a taken name', async () => {
    const read = await org.admin('GET', `/api/v1/admin/users/${alice.id}`);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ id: alice.id, username: 'alice', role: 'editor', active: true });

    const renamed = await org.admin('PATCH', `/api/v1/admin/users/${alice.id}`, { username: 'alice2' });
    expect(renamed.status).toBe(200);
    expect(renamed.json.username).toBe('alice2');
    // The old name is free again, the new one taken.
    const taken = await org.admin('PATCH', `/api/v1/admin/users/${viewer.id}`, { username: 'alice2' });
    expectProblem(taken, 409);
    expect((await org.admin('GET', `/api/v1/admin/users/${viewer.id}`)).json.username).toBe('victor');
    expect(
      (await org.admin('POST', '/api/v1/admin/users', { username: 'alice', role: 'viewer' })).status,
    ).toBe(201);
    expect(
      (await org.admin('POST', '/api/v1/admin/users', { username: 'alice2', role: 'viewer' })).status,
    ).toBe(409);
    const back = await org.admin('PATCH', `/api/v1/admin/users/${alice.id}`, { username: 'alice2' });
    expect(back.status).toBe(200);
  });

  it('deactivates with DELETE: keys stop at once, engrams stay', async () => {
    const dora = await org.user('dora', 'editor');
    const engram = await org.engram(dora, {
      statement: 'Deactivated users keep their engrams.',
      scope: `org:${org.id}`,
    });
    expect((await org.as(dora, 'GET', '/api/v1/me')).status).toBe(200);
    const removed = await org.admin('DELETE', `/api/v1/admin/users/${dora.id}`);
    expect(removed.status).toBe(200);
    expect(removed.json).toMatchObject({ id: dora.id, active: false });
    expect((await org.as(dora, 'GET', '/api/v1/me')).status).toBe(401);
    expect((await org.admin('GET', `/api/v1/engrams/${engram.id}`)).status).toBe(200);
    const audit = await org.admin('GET', `/api/v1/admin/audit?target=user:${dora.id}&action=user.update`);
    expect(audit.json.rows).toHaveLength(1);
    expect(audit.json.rows[0].outcome).toBe('success');
  });

  it('pages the user list with limit and offset', async () => {
    const whole = await org.admin('GET', '/api/v1/admin/users?limit=500');
    const total = whole.json.total_count as number;
    expect(total).toBeGreaterThanOrEqual(4);
    const first = await org.admin('GET', '/api/v1/admin/users?limit=2');
    const second = await org.admin('GET', '/api/v1/admin/users?limit=2&offset=2');
    expect(first.json.total_count).toBe(total);
    expect([...first.json.rows, ...second.json.rows].map((u: { id: string }) => u.id)).toEqual(
      whole.json.rows.slice(0, 4).map((u: { id: string }) => u.id),
    );
    expect((await org.admin('GET', `/api/v1/admin/users?offset=${total}`)).json.rows).toEqual([]);
  });

  it.each([
    ['GET', '/api/v1/admin/users?limit=0', undefined, 400],
    ['GET', '/api/v1/admin/users?offset=-1', undefined, 400],
    ['GET', '/api/v1/admin/users/bad%20id', undefined, 400],
    ['PATCH', '/api/v1/admin/users/ID', { username: 'has space' }, 400],
    ['PATCH', '/api/v1/admin/users/ID', { username: 7 }, 400],
    ['PATCH', '/api/v1/admin/users/ID', { username: 'x'.repeat(65) }, 400],
    ['GET', '/api/v1/admin/users/usr_missing', undefined, 404],
    ['DELETE', '/api/v1/admin/users/usr_missing', undefined, 404],
  ])('answers %s %s with a problem', async (method, path, body, status) => {
    const res = await org.admin(method, path.replace('ID', alice.id), body);
    expectProblem(res, status);
    expect((await org.admin('GET', `/api/v1/admin/users/${alice.id}`)).json.username).toBe('alice2');
  });

  it("treats another organisation's user as missing, and refuses non-admins", async () => {
    expectProblem(await other.admin('GET', `/api/v1/admin/users/${alice.id}`), 404);
    expectProblem(await other.admin('DELETE', `/api/v1/admin/users/${alice.id}`), 404);
    expectProblem(await other.admin('PATCH', `/api/v1/admin/users/${alice.id}`, { role: 'admin' }), 404);
    expectProblem(await org.as(viewer, 'GET', `/api/v1/admin/users/${alice.id}`), 403);
    expectProblem(await org.as(viewer, 'DELETE', `/api/v1/admin/users/${alice.id}`), 403);
    expectProblem(await org.as(alice, 'PATCH', `/api/v1/admin/users/${alice.id}`, { role: 'admin' }), 403);
    expect((await org.admin('GET', `/api/v1/admin/users/${alice.id}`)).json).toMatchObject({
      active: true,
      role: 'editor',
    });
    expectProblem(await server.request('DELETE', `/api/v1/admin/users/${alice.id}`), 401);
  });
});

describe('groups by id', () => {
  it('reads, describes and lists the members of a group', async () => {
    const team = await org.group('team');
    await org.member(team.id, alice, 'editor');
    await org.member(team.id, viewer, 'viewer');
    const read = await org.admin('GET', `/api/v1/admin/groups/${team.id}`);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ id: team.id, name: 'team', description: null });
    expect(read.json.members).toEqual(
      [
        { user_id: alice.id, role: 'editor' },
        { user_id: viewer.id, role: 'viewer' },
      ].sort((a, b) => a.user_id.localeCompare(b.user_id)),
    );
    const described = await org.admin('PATCH', `/api/v1/admin/groups/${team.id}`, {
      description: 'The team',
    });
    expect(described.status).toBe(200);
    expect(described.json).toMatchObject({ name: 'team', scope: team.scope, description: 'The team' });
    const members = await org.admin('GET', `/api/v1/admin/groups/${team.id}/members?limit=1`);
    expect(members.json.total_count).toBe(2);
    expect(members.json.rows).toHaveLength(1);
    const rest = await org.admin('GET', `/api/v1/admin/groups/${team.id}/members?limit=1&offset=1`);
    expect([...members.json.rows, ...rest.json.rows]).toEqual(read.json.members);
  });

  it('deletes an empty group only, and its engrams stay', async () => {
    const parent = await org.group('ops');
    const child = await org.group('oncall', parent.id);
    await org.member(child.id, alice, 'editor');
    const engram = await org.engram(alice, { statement: 'Pager rotations are weekly.', scope: child.scope });
    expectProblem(await org.admin('DELETE', `/api/v1/admin/groups/${parent.id}`), 409);
    expectProblem(await org.admin('DELETE', `/api/v1/admin/groups/${child.id}`), 409);
    expect((await org.admin('DELETE', `/api/v1/admin/groups/${child.id}/members/${alice.id}`)).status).toBe(
      200,
    );
    const gone = await org.admin('DELETE', `/api/v1/admin/groups/${child.id}`);
    expect(gone.status).toBe(200);
    expect(gone.json).toEqual({ id: child.id, deleted: true });
    expectProblem(await org.admin('GET', `/api/v1/admin/groups/${child.id}`), 404);
    expect((await org.admin('DELETE', `/api/v1/admin/groups/${parent.id}`)).status).toBe(200);
    expect((await org.admin('GET', `/api/v1/engrams/${engram.id}`)).status).toBe(200);
    // The path is free again.
    expect((await org.admin('POST', '/api/v1/admin/groups', { name: 'ops' })).status).toBe(201);
    const audit = await org.admin('GET', `/api/v1/admin/audit?action=group.delete`);
    expect(audit.json.rows.map((r: { target: { id: string } }) => r.target.id).sort()).toEqual(
      [child.id, parent.id].sort(),
    );
  });

  it('pages the group list', async () => {
    const whole = await org.admin('GET', '/api/v1/admin/groups');
    const page = await org.admin('GET', '/api/v1/admin/groups?limit=1&offset=1');
    expect(page.json.total_count).toBe(whole.json.total_count);
    expect(page.json.rows).toEqual(whole.json.rows.slice(1, 2));
  });

  it.each([
    ['PATCH', '/api/v1/admin/groups/GID', { description: 5 }, 400],
    ['PATCH', '/api/v1/admin/groups/GID', { name: 'renamed' }, 400],
    ['PATCH', '/api/v1/admin/groups/GID', { description: 'x'.repeat(1001) }, 400],
    ['GET', '/api/v1/admin/groups/GID/members?limit=501', undefined, 400],
    ['GET', '/api/v1/admin/groups/grp_missing', undefined, 404],
    ['PATCH', '/api/v1/admin/groups/grp_missing', { description: 'x' }, 404],
    ['DELETE', '/api/v1/admin/groups/grp_missing', undefined, 404],
    ['GET', '/api/v1/admin/groups/grp_missing/members', undefined, 404],
  ])('answers %s %s with a problem', async (method, path, body, status) => {
    const group = await org.group(`g-${Math.random().toString(36).slice(2, 8)}`);
    expectProblem(await org.admin(method, path.replace('GID', group.id), body), status);
    expect((await org.admin('GET', `/api/v1/admin/groups/${group.id}`)).json.description).toBeNull();
  });

  it("treats another organisation's group as missing, and refuses non-admins", async () => {
    const group = await org.group('private');
    for (const [method, path, body] of [
      ['GET', `/api/v1/admin/groups/${group.id}`, undefined],
      ['PATCH', `/api/v1/admin/groups/${group.id}`, { description: 'mine now' }],
      ['DELETE', `/api/v1/admin/groups/${group.id}`, undefined],
      ['GET', `/api/v1/admin/groups/${group.id}/members`, undefined],
    ] as const) {
      expectProblem(await other.admin(method, path, body), 404);
      expectProblem(await org.as(viewer, method, path, body), 403);
    }
    expect((await org.admin('GET', `/api/v1/admin/groups/${group.id}`)).json.description).toBeNull();
  });
});
