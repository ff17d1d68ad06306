import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer } from '../helpers/engram.js';
import { orgTenant } from '../../src/tenant.js';
import { connectEvents } from '../helpers/ws.js';
import { createLayerKey, ADMIN_KEY, type TestResponse, type TestServer } from '../helpers/server.js';

/**
 * SCIM 2.0 at /scim/v2 over real HTTP against a real Redis: the request sequences Okta and Microsoft Entra
 * ID send (shared/reference/scim.md), filters, pagination, uniqueness, If-Match, credentials, tenancy and
 * bad input. Deactivation is checked where it matters: the user's API key stops working at once.
 */
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let server: TestServer;
let org: Org;
let other: Org;
let token: string;
let otherToken: string;

async function scimToken(o: Org): Promise<string> {
  const res = await o.admin('POST', '/api/v1/admin/scim/tokens', { label: 'idp' });
  if (res.status !== 201) throw new Error(`issuing a SCIM token: ${res.status} ${res.text}`);
  return res.json.token as string;
}

const scim = (
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  t = token,
) =>
  server.request(method, `/scim/v2${path}`, {
    token: t,
    headers: { 'content-type': 'application/scim+json', ...headers },
    ...(body === undefined ? {} : { body }),
  });

const q = (filter: string) => `?filter=${encodeURIComponent(filter)}`;

function expectScimError(res: TestResponse, status: number, scimType?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/scim+json');
  expect(res.json.schemas).toEqual([ERROR]);
  expect(res.json.status).toBe(String(status));
  expect(typeof res.json.detail).toBe('string');
  if (scimType) expect(res.json.scimType).toBe(scimType);
}

/** A plur_sk_ key for a SCIM-provisioned user, issued by the organisation's admin. */
async function keyFor(o: Org, userId: string): Promise<string> {
  const res = await o.admin('POST', '/api/v1/admin/api-keys', { user_id: userId });
  if (res.status !== 201) throw new Error(`issuing a key: ${res.status} ${res.text}`);
  return res.json.key as string;
}

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server, 'scim');
  other = new Org(server, 'scim-other');
  token = await scimToken(org);
  otherToken = await scimToken(other);
});
afterAll(async () => {
  await server?.close();
});

describe('SCIM tokens', () => {
  it('are minted by org admins only, shown once, listed without the secret, and revocable', async () => {
    expect(token).toMatch(/^plur_scim_[0-9a-f]{48}$/);
    const listed = await org.admin('GET', '/api/v1/admin/scim/tokens');
    expect(listed.status).toBe(200);
    expect(listed.json.total_count).toBe(1);
    expect(listed.text).not.toContain(token);
    expect(listed.json.rows[0].token_prefix).toBe(`${token.slice(0, 16)}...`);

    const viewer = await org.user('scim-viewer', 'viewer');
    const denied = await org.as(viewer, 'POST', '/api/v1/admin/scim/tokens', {});
    expect(denied.status).toBe(403);

    const spare = await scimToken(org);
    expect((await scim('GET', '/Users', undefined, {}, spare)).status).toBe(200);
    const id = (await org.admin('GET', '/api/v1/admin/scim/tokens')).json.rows[0].id as string;
    expect((await org.admin('DELETE', `/api/v1/admin/scim/tokens/${id}`)).status).toBe(200);
    expectScimError(await scim('GET', '/Users', undefined, {}, spare), 401);
    // Another organisation's token id is unknown here.
    const foreign = (await other.admin('GET', '/api/v1/admin/scim/tokens')).json.rows[0].id as string;
    expect((await org.admin('DELETE', `/api/v1/admin/scim/tokens/${foreign}`)).status).toBe(404);
    expect((await scim('GET', '/Users', undefined, {}, otherToken)).status).toBe(200);
  });

  it('work only on /scim/v2, and nothing else works there', async () => {
    const onApi = await server.request('GET', '/api/v1/me', { token });
    expect(onApi.status).toBe(401);
    expect(onApi.json.detail).toContain('SCIM token');
    expect((await server.request('GET', '/v1/stats', { token })).status).toBe(401);
    expect((await server.request('POST', '/admin/keys', { token, body: { workspace_id: 'w' } })).status).toBe(
      401,
    );

    const user = await org.user('scim-keyholder', 'admin');
    const layerKey = await createLayerKey(server, `scimws-${Date.now()}`);
    for (const credential of [ADMIN_KEY, user.key, layerKey, 'plur_scim_' + '0'.repeat(48), 'garbage']) {
      expectScimError(await scim('GET', '/Users', undefined, {}, credential), 401);
      expectScimError(await scim('GET', '/ServiceProviderConfig', undefined, {}, credential), 401);
    }
    const none = await server.request('GET', '/scim/v2/Users');
    expectScimError(none, 401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
  });
});

describe('discovery', () => {
  it('serves ServiceProviderConfig, ResourceTypes and Schemas as application/scim+json', async () => {
    const spc = await scim('GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.headers.get('content-type')).toBe('application/scim+json');
    expect(spc.json.patch.supported).toBe(true);
    expect(spc.json.filter).toEqual({ supported: true, maxResults: 200 });
    expect(spc.json.etag.supported).toBe(true);
    expect(spc.json.bulk.supported).toBe(false);
    const types = await scim('GET', '/ResourceTypes');
    expect(types.json.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    expect((await scim('GET', '/ResourceTypes/User')).json.schema).toBe(CORE);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.json.totalResults).toBe(3);
    const user = await scim('GET', `/Schemas/${CORE}`);
    expect(user.json.attributes.find((a: { name: string }) => a.name === 'userName').uniqueness).toBe(
      'server',
    );
    expectScimError(await scim('GET', '/Schemas/urn:nope'), 404);
  });
});

describe('Microsoft Entra ID sequence', () => {
  it('looks up, provisions, updates, deactivates, re-activates and deletes a user', async () => {
    const before = await scim('GET', `/Users${q('userName eq "alice@contoso.com"')}`);
    expect(before.status).toBe(200);
    expect(before.json).toMatchObject({ totalResults: 0, Resources: [] });

    const created = await scim('POST', '/Users', {
      schemas: [CORE, ENTERPRISE],
      externalId: 'entra-0001',
      userName: 'alice@contoso.com',
      active: true,
      displayName: 'Alice Smith',
      emails: [{ primary: true, type: 'work', value: 'alice@contoso.com' }],
      name: { formatted: 'Alice Smith', familyName: 'Smith', givenName: 'Alice' },
      [ENTERPRISE]: { employeeNumber: '1001', department: 'Research', manager: { value: 'boss' } },
      phoneNumbers: [{ type: 'work', value: '+1 555' }],
    });
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/scim+json');
    const id = created.json.id as string;
    expect(created.headers.get('location')).toBe(`${server.url}/scim/v2/Users/${id}`);
    expect(created.headers.get('etag')).toBe(created.json.meta.version);
    expect(created.json).toMatchObject({
      schemas: [CORE, ENTERPRISE],
      externalId: 'entra-0001',
      userName: 'alice@contoso.com',
      active: true,
      name: { givenName: 'Alice', familyName: 'Smith' },
      [ENTERPRISE]: { department: 'Research', employeeNumber: '1001', manager: { value: 'boss' } },
      meta: { resourceType: 'User', location: `${server.url}/scim/v2/Users/${id}` },
    });
    expect(created.json.meta.version).toMatch(/^W\/"[0-9a-f]{40}"$/);
    // The mnemo user behind it, with a key that works until the IdP deactivates the user.
    const users = (await org.admin('GET', '/api/v1/admin/users')).json.rows as {
      id: string;
      username: string;
      email: string;
    }[];
    expect(users.find((u) => u.id === id)).toMatchObject({
      username: 'alice_contoso.com',
      email: 'alice@contoso.com',
    });
    const key = await keyFor(org, id);
    expect((await org.as(key, 'GET', '/api/v1/me')).status).toBe(200);

    const byExternal = await scim('GET', `/Users${q('externalId eq "entra-0001"')}`);
    expect(byExternal.json.totalResults).toBe(1);

    const updated = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Alice S.' },
        { op: 'Replace', path: 'name.givenName', value: 'Alicia' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alicia@contoso.com' },
        { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Platform' },
      ],
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json).toMatchObject({
      displayName: 'Alice S.',
      name: { givenName: 'Alicia', familyName: 'Smith' },
      emails: [{ type: 'work', value: 'alicia@contoso.com', primary: true }],
      [ENTERPRISE]: { department: 'Platform' },
    });

    const off = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(off.status).toBe(200);
    expect(off.json.active).toBe(false);
    expect((await org.as(key, 'GET', '/api/v1/me')).status).toBe(401);
    expect((await scim('GET', `/Users/${id}`)).json.active).toBe(false);

    const on = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
    });
    expect(on.json.active).toBe(true);
    expect((await org.as(key, 'GET', '/api/v1/me')).status).toBe(200);

    const gone = await scim('DELETE', `/Users/${id}`);
    expect(gone.status).toBe(204);
    expect(gone.text).toBe('');
    expect((await org.as(key, 'GET', '/api/v1/me')).status).toBe(401);
    expectScimError(await scim('GET', `/Users/${id}`), 404);
    expectScimError(
      await scim('PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', path: 'active', value: true }] }),
      404,
    );
    expect((await scim('GET', `/Users${q('userName eq "alice@contoso.com"')}`)).json.totalResults).toBe(0);
    // The mnemo user stays, deactivated.
    const kept = (await org.admin('GET', '/api/v1/admin/users')).json.rows.find(
      (u: { id: string }) => u.id === id,
    );
    expect(kept.active).toBe(false);
  });

  it('manages group members with Add and Remove on members, and reads groups without members', async () => {
    const a = (await scim('POST', '/Users', { schemas: [CORE], userName: 'ga@contoso.com' })).json
      .id as string;
    const b = (await scim('POST', '/Users', { schemas: [CORE], userName: 'gb@contoso.com' })).json
      .id as string;
    const group = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Sales EMEA',
      externalId: 'g-1',
      members: [],
    });
    expect(group.status, group.text).toBe(201);
    const gid = group.json.id as string;
    expect(group.json).toMatchObject({ displayName: 'Sales EMEA', externalId: 'g-1', members: [] });

    const add = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: a }, { value: b }] }],
    });
    expect(add.status, add.text).toBe(200);
    expect(add.json.members.map((m: { value: string }) => m.value).sort()).toEqual([a, b].sort());
    const mnemoGroup = (await org.admin('GET', '/api/v1/admin/groups')).json.rows.find(
      (g: { id: string }) => g.id === gid,
    );
    expect(mnemoGroup.name).toBe('Sales-EMEA');
    expect(mnemoGroup.members.map((m: { user_id: string }) => m.user_id).sort()).toEqual([a, b].sort());
    expect((await scim('GET', `/Users/${a}`)).json.groups).toEqual([
      { value: gid, display: 'Sales EMEA', $ref: `${server.url}/scim/v2/Groups/${gid}` },
    ]);

    const remove = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: a }] }],
    });
    expect(remove.json.members.map((m: { value: string }) => m.value)).toEqual([b]);

    const found = await scim('GET', `/Groups${q('displayName eq "sales emea"')}&excludedAttributes=members`);
    expect(found.json.totalResults).toBe(1);
    expect(found.json.Resources[0].members).toBeUndefined();
    expect(found.json.Resources[0].displayName).toBe('Sales EMEA');
  });
});

describe('Okta sequence', () => {
  it('provisions, replaces with PUT, deactivates and re-activates with a path-less PATCH', async () => {
    const lookup = await scim('GET', `/Users${q('userName eq "bob@example.com"')}&startIndex=1&count=100`);
    expect(lookup.json.totalResults).toBe(0);
    const created = await scim('POST', '/Users', {
      schemas: [CORE],
      userName: 'bob@example.com',
      name: { givenName: 'Bob', familyName: 'Jones' },
      emails: [{ primary: true, value: 'bob@example.com', type: 'work' }],
      displayName: 'Bob Jones',
      locale: 'en-US',
      externalId: '00u1',
      groups: [],
      password: 'ignored-secret',
      active: true,
    });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain('ignored-secret');
    const id = created.json.id as string;
    const key = await keyFor(org, id);

    const dup = await scim('POST', '/Users', { schemas: [CORE], userName: 'BOB@example.com' });
    expectScimError(dup, 409, 'uniqueness');

    const put = await scim('PUT', `/Users/${id}`, {
      schemas: [CORE],
      id,
      userName: 'bob@example.com',
      name: { givenName: 'Robert', familyName: 'Jones' },
      emails: [{ primary: true, value: 'robert@example.com', type: 'work' }],
      displayName: 'Robert Jones',
      active: true,
    });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ displayName: 'Robert Jones', name: { givenName: 'Robert' } });
    expect(put.json.externalId).toBeUndefined();

    const off = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(off.json.active).toBe(false);
    expect((await org.as(key, 'GET', '/api/v1/me')).status).toBe(401);
    const on = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(on.json.active).toBe(true);
    expect((await org.as(key, 'GET', '/api/v1/me')).status).toBe(200);
    expectScimError(await scim('GET', '/Users/usr_doesnotexist'), 404);
  });

  it('pushes groups: create, rename with replace, members add and remove by value filter, delete', async () => {
    const u = (await scim('POST', '/Users', { schemas: [CORE], userName: 'push@example.com' })).json
      .id as string;
    const created = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Okta Team',
      members: [{ value: u, display: 'push' }],
    });
    expect(created.status).toBe(201);
    const gid = created.json.id as string;
    expect(created.json.members.map((m: { value: string }) => m.value)).toEqual([u]);

    const renamed = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id: gid, displayName: 'Okta Team Renamed' } }],
    });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json.displayName).toBe('Okta Team Renamed');
    const stored = (await org.admin('GET', '/api/v1/admin/groups')).json.rows.find(
      (g: { id: string }) => g.id === gid,
    );
    expect(stored.name).toBe('Okta-Team');

    const removed = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: `members[value eq "${u}"]` }],
    });
    expect(removed.json.members).toEqual([]);
    const readded = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: u }] }],
    });
    expect(readded.json.members.map((m: { value: string }) => m.value)).toEqual([u]);

    expect((await scim('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expectScimError(await scim('GET', `/Groups/${gid}`), 404);
    expect((await scim('GET', `/Users/${u}`)).json.groups).toBeUndefined();
  });
});

describe('lists, filters and versions', () => {
  it('filters over HTTP with every operator family, pages with startIndex and count', async () => {
    for (let i = 0; i < 5; i++)
      await scim('POST', '/Users', {
        schemas: [CORE],
        userName: `page${i}@list.test`,
        active: i % 2 === 0,
        displayName: `Page ${i}`,
      });
    const count = async (filter: string) =>
      (await scim('GET', `/Users${q(filter)}`)).json.totalResults as number;
    expect(await count('userName sw "page" and userName ew "@list.test"')).toBe(5);
    expect(await count('userName co "page" and active eq true')).toBe(3);
    expect(await count('userName co "page" and not (active eq true)')).toBe(2);
    expect(await count('userName eq "page1@list.test" or userName eq "PAGE2@list.test"')).toBe(2);
    expect(await count('userName sw "page" and displayName ne "Page 1"')).toBe(4);
    expect(await count('userName sw "page" and userName gt "page2@list.test"')).toBe(2);
    expect(await count('userName sw "page" and userName le "page2@list.test"')).toBe(3);
    expect(await count('userName sw "page" and meta.created ge "2000-01-01T00:00:00Z"')).toBe(5);
    expect(await count('userName sw "page" and externalId pr')).toBe(0);

    const first = await scim('GET', `/Users${q('userName sw "page"')}&startIndex=1&count=2`);
    expect(first.json).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 2 });
    const last = await scim('GET', `/Users${q('userName sw "page"')}&startIndex=5&count=2`);
    expect(last.json).toMatchObject({ totalResults: 5, startIndex: 5, itemsPerPage: 1 });
    const names = [...first.json.Resources, ...last.json.Resources].map(
      (r: { userName: string }) => r.userName,
    );
    expect(new Set(names).size).toBe(3);
    const none = await scim('GET', `/Users${q('userName sw "page"')}&count=0`);
    expect(none.json).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });

    const projected = await scim('GET', `/Users${q('userName eq "page0@list.test"')}&attributes=userName`);
    expect(Object.keys(projected.json.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
    const excluded = await scim(
      'GET',
      `/Users${q('userName eq "page0@list.test"')}&excludedAttributes=meta,displayName`,
    );
    expect(excluded.json.Resources[0].meta).toBeUndefined();
    expect(excluded.json.Resources[0].displayName).toBeUndefined();
    expect(excluded.json.Resources[0].userName).toBe('page0@list.test');
  });

  it('honours If-Match on PUT, PATCH and DELETE (412 on a stale version)', async () => {
    const created = await scim('POST', '/Users', { schemas: [CORE], userName: 'etag@example.com' });
    const id = created.json.id as string;
    const v1 = created.json.meta.version as string;
    const changed = await scim(
      'PATCH',
      `/Users/${id}`,
      { Operations: [{ op: 'replace', path: 'displayName', value: 'E' }] },
      { 'if-match': v1 },
    );
    expect(changed.status).toBe(200);
    const v2 = changed.json.meta.version as string;
    expect(v2).not.toBe(v1);
    const stale = await scim(
      'PATCH',
      `/Users/${id}`,
      { Operations: [{ op: 'replace', path: 'displayName', value: 'F' }] },
      { 'if-match': v1 },
    );
    expectScimError(stale, 412);
    expectScimError(
      await scim('PUT', `/Users/${id}`, { userName: 'etag@example.com' }, { 'if-match': v1 }),
      412,
    );
    expectScimError(await scim('DELETE', `/Users/${id}`, undefined, { 'if-match': v1 }), 412);
    expect((await scim('GET', `/Users/${id}`)).json.displayName).toBe('E');
    expect((await scim('DELETE', `/Users/${id}`, undefined, { 'if-match': v2 })).status).toBe(204);
  });

  it('replaces a group with PUT (members replaced) and honours If-Match on groups', async () => {
    const u1 = (await scim('POST', '/Users', { userName: 'put-g1@example.com' })).json.id as string;
    const u2 = (await scim('POST', '/Users', { userName: 'put-g2@example.com' })).json.id as string;
    const created = await scim('POST', '/Groups', { displayName: 'Put Team', members: [{ value: u1 }] });
    const gid = created.json.id as string;
    const v1 = created.json.meta.version as string;
    const put = await scim(
      'PUT',
      `/Groups/${gid}`,
      { schemas: [GROUP], displayName: 'Put Team 2', members: [{ value: u2 }] },
      { 'if-match': v1 },
    );
    expect(put.status, put.text).toBe(200);
    expect(put.json.displayName).toBe('Put Team 2');
    expect(put.json.members.map((m: { value: string }) => m.value)).toEqual([u2]);
    expect(put.json.meta.version).not.toBe(v1);
    const stale = await scim(
      'PATCH',
      `/Groups/${gid}`,
      { Operations: [{ op: 'add', path: 'members', value: [{ value: u1 }] }] },
      { 'if-match': v1 },
    );
    expectScimError(stale, 412);
    expectScimError(await scim('DELETE', `/Groups/${gid}`, undefined, { 'if-match': v1 }), 412);
    expect((await scim('GET', `/Groups/${gid}`)).json.members.map((m: { value: string }) => m.value)).toEqual(
      [u2],
    );
  });

  it('keeps userName unique ignoring case across renames', async () => {
    const a = (await scim('POST', '/Users', { userName: 'uniq-a@example.com' })).json.id as string;
    await scim('POST', '/Users', { userName: 'uniq-b@example.com' });
    const clash = await scim('PATCH', `/Users/${a}`, {
      Operations: [{ op: 'replace', path: 'userName', value: 'UNIQ-B@example.com' }],
    });
    expectScimError(clash, 409, 'uniqueness');
    const renamed = await scim('PATCH', `/Users/${a}`, {
      Operations: [{ op: 'replace', path: 'userName', value: 'uniq-c@example.com' }],
    });
    expect(renamed.json.userName).toBe('uniq-c@example.com');
    // The old userName no longer finds anyone; the mnemo username (uniq-a_example.com, the personal scope's
    // name) stays with the renamed user, so provisioning the old userName again is a conflict.
    expect((await scim('GET', `/Users${q('userName eq "uniq-a@example.com"')}`)).json.totalResults).toBe(0);
    expectScimError(await scim('POST', '/Users', { userName: 'uniq-a@example.com' }), 409, 'uniqueness');
    expect((await scim('POST', '/Users', { userName: 'uniq-d@example.com' })).status).toBe(201);
  });
});

describe('deprovisioning cuts off open event sockets', () => {
  it("closes a deactivated user's socket with 4001", async () => {
    const id = (await scim('POST', '/Users', { userName: 'socket@example.com' })).json.id as string;
    const key = await keyFor(org, id);
    const socket = await connectEvents(server, key, { path: '/api/v1/events' });
    try {
      const off = await scim('PATCH', `/Users/${id}`, {
        Operations: [{ op: 'replace', value: { active: false } }],
      });
      expect(off.status).toBe(200);
      expect((await socket.closed).code).toBe(4001);
    } finally {
      await socket.close();
    }
  });
});

describe('tenancy, audit and events', () => {
  it("never shows another organisation's users or groups", async () => {
    const mine = (await scim('POST', '/Users', { userName: 'tenant@example.com' })).json.id as string;
    const theirs = await scim('GET', '/Users', undefined, {}, otherToken);
    expect(theirs.json.Resources.map((r: { id: string }) => r.id)).not.toContain(mine);
    expectScimError(await scim('GET', `/Users/${mine}`, undefined, {}, otherToken), 404);
    expectScimError(
      await scim(
        'PATCH',
        `/Users/${mine}`,
        { Operations: [{ op: 'replace', path: 'active', value: false }] },
        {},
        otherToken,
      ),
      404,
    );
    expectScimError(await scim('DELETE', `/Users/${mine}`, undefined, {}, otherToken), 404);
    // The same userName is free in the other organisation.
    expect((await scim('POST', '/Users', { userName: 'tenant@example.com' }, {}, otherToken)).status).toBe(
      201,
    );
    const group = (await scim('POST', '/Groups', { displayName: 'Private' })).json.id as string;
    expectScimError(await scim('GET', `/Groups/${group}`, undefined, {}, otherToken), 404);
    const foreignMember = await scim('PATCH', `/Groups/${group}`, {
      Operations: [
        { op: 'add', path: 'members', value: [{ value: theirs.json.Resources[0]?.id ?? 'usr_x' }] },
      ],
    });
    expectScimError(foreignMember, 400, 'invalidValue');
    expect((await scim('GET', `/Users/${mine}`)).json.active).toBe(true);
  });

  it('audits every change with channel scim and announces user and group events', async () => {
    const res = await scim(
      'POST',
      '/Users',
      { userName: 'audited@example.com' },
      { 'user-agent': 'Okta SCIM Client', 'x-request-id': 'scim-req-1' },
    );
    const id = res.json.id as string;
    await scim(
      'PATCH',
      `/Users/${id}`,
      { Operations: [{ op: 'replace', path: 'active', value: false }] },
      { 'x-request-id': 'scim-req-2' },
    );
    const entries = await server.services.audit.recent(org.id, 200);
    const create = entries.find((e) => e.request_id === 'scim-req-1');
    expect(create).toMatchObject({
      action: 'user.create',
      channel: 'scim',
      user_agent: 'Okta SCIM Client',
      target: { type: 'user', id },
    });
    expect(create?.actor.type).toBe('scim');
    const update = entries.find((e) => e.request_id === 'scim-req-2');
    expect(update).toMatchObject({
      action: 'user.update',
      channel: 'scim',
      payload: { scim: 'patch', fields: ['active'] },
    });
    const page = await server.services.events.read(orgTenant(org.id), '0-0', 10_000);
    const types = page.events.filter((e) => e.json.includes(id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['user.created', 'user.updated', 'user.disabled']));
  });
});

describe('bad input answers a SCIM error and changes nothing', () => {
  it('refuses malformed filters, bodies, PATCH operations and paths', async () => {
    for (const filter of [
      'userName eq',
      'userName xx "a"',
      '(userName pr',
      'active gt true',
      'emails[type eq "work"',
    ]) {
      expectScimError(await scim('GET', `/Users${q(filter)}`), 400, 'invalidFilter');
    }
    expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent('x'.repeat(2100))}`), 400);
    expectScimError(await scim('GET', '/Users?count=many'), 400, 'invalidSyntax');
    expectScimError(await scim('POST', '/Users', { displayName: 'no userName' }), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Users', { userName: 42 }), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Users', { userName: 'x'.repeat(300) }), 400, 'invalidValue');
    expectScimError(
      await scim('POST', '/Users', { userName: 'bad-email@example.com', emails: 'a@b' }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('POST', '/Users', { userName: 'bad-active@example.com', active: 'maybe' }),
      400,
      'invalidValue',
    );
    expectScimError(await scim('POST', '/Users', [1, 2]), 400);
    const raw = await server.request('POST', '/scim/v2/Users', {
      token,
      rawBody: '{"userName": ',
      headers: { 'content-type': 'application/scim+json' },
    });
    expectScimError(raw, 400);
    expectScimError(await scim('POST', '/Groups', { displayName: '' }), 400, 'invalidValue');
    expectScimError(
      await scim('POST', '/Groups', { displayName: 'Ghosts', members: [{ value: 'usr_nobody' }] }),
      400,
      'invalidValue',
    );
    expect((await scim('GET', `/Groups${q('displayName eq "Ghosts"')}`)).json.totalResults).toBe(0);

    const id = (await scim('POST', '/Users', { userName: 'patchy@example.com', displayName: 'Patchy' })).json
      .id as string;
    const version = (await scim('GET', `/Users/${id}`)).json.meta.version as string;
    const badOps = [
      [{ op: 'merge', path: 'displayName', value: 'x' }],
      [{ op: 'replace', value: 'not an object' }],
      [{ op: 'remove' }],
      [{ op: 'replace', path: 'emails[type eq', value: 'x' }],
      [{ op: 'replace', path: 'id', value: 'usr_other' }],
      [{ op: 'replace', path: 'active', value: 'perhaps' }],
      [{ op: 'replace', path: 'userName', value: '' }],
      [
        { op: 'replace', path: 'displayName', value: 'ok' },
        { op: 'replace', path: 'active', value: 7 },
      ],
    ];
    for (const Operations of badOps) {
      const res = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations });
      expect(res.status, JSON.stringify(Operations)).toBe(400);
      expect(res.json.schemas).toEqual([ERROR]);
    }
    expectScimError(await scim('PATCH', `/Users/${id}`, { Operations: [] }), 400);
    expectScimError(await scim('PATCH', `/Users/${id}`, { Operations: 'x' }), 400);
    const after = await scim('GET', `/Users/${id}`);
    expect(after.json.meta.version).toBe(version);
    expect(after.json.displayName).toBe('Patchy');
    expectScimError(await scim('GET', '/Users/bad%20id'), 400);
    expectScimError(await scim('GET', '/Nope'), 404);
  });
});
