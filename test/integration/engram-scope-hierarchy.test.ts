import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/**
 * A requested scope covers its readable sub-scopes on every read that takes a scope filter (list, recall,
 * recall/bm25, inject): group:<org>/platform includes group:<org>/platform/db, as a membership of platform
 * does. It never widens access: an unreadable requested scope covers nothing, a name that merely starts
 * the same way (platform-old) is not below it, and another organisation's scopes stay invisible.
 */
let server: TestServer;
let org: Org;
let other: Org;
let member: TestUser; // viewer of platform
let dbOnly: TestUser; // viewer of platform/db only
let platform: { id: string; scope: string };
let db: { id: string; scope: string };
let top: { id: string };
let below: { id: string };
let sibling: { id: string };
let foreign: { statement: string };

const WORDS = 'narwhal tangerine';
const ids = (rows: { id: string }[]): string[] => rows.map((r) => r.id).sort();

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server, 'acme');
  other = new Org(server, 'rival');
  [member, dbOnly] = await Promise.all([org.user('member', 'viewer'), org.user('dba', 'viewer')]);
  platform = await org.group('platform');
  db = await org.group('db', platform.id);
  const old = await org.group('platform-old');
  await org.member(platform.id, member, 'viewer');
  await org.member(db.id, dbOnly, 'viewer');
  await org.member(old.id, member, 'viewer');
  top = await org.engram(null, { statement: `Platform ${WORDS} rule`, scope: platform.scope });
  below = await org.engram(null, { statement: `Database ${WORDS} rule`, scope: db.scope });
  sibling = await org.engram(null, { statement: `Old platform ${WORDS} rule`, scope: old.scope });
  await other.group('platform');
  foreign = (await other.engram(null, { statement: `Rival ${WORDS} rule`, scope: 'group:platform' })).data;
});
afterAll(async () => {
  await server.close();
});

const list = async (user: TestUser, scope: string) =>
  (await org.as(user, 'GET', `/api/v1/engrams?scope=${encodeURIComponent(scope)}&limit=200`)).json;

describe('a requested scope covers its readable sub-scopes', () => {
  it('GET /engrams?scope= lists the scope and the scopes below it', async () => {
    const res = await list(member, platform.scope);
    expect(ids(res.rows)).toEqual([below.id, top.id].sort());
    expect(res.total_count).toBe(2);
    expect(ids((await list(member, 'group:platform')).rows)).toEqual([below.id, top.id].sort());
    expect(ids((await list(member, db.scope)).rows)).toEqual([below.id]);
  });

  for (const path of ['/api/v1/recall', '/api/v1/recall/bm25']) {
    it(`${path} with scopes searches the scopes below each requested one`, async () => {
      const res = await org.as(member, 'POST', path, { query: WORDS, scopes: [platform.scope] });
      expect(res.status).toBe(200);
      expect(ids(res.json.results)).toEqual([below.id, top.id].sort());
      expect(res.json.effective_scopes).toEqual([platform.scope]);
      expect(res.json.dropped_scopes).toEqual([]);
    });
  }

  it('inject covers the scopes below `scope` and below each of `scopes`', async () => {
    for (const body of [
      { scope: platform.scope },
      { scopes: [platform.scope] },
      { scopes: ['group:platform'] },
    ]) {
      const res = await org.as(member, 'POST', '/api/v1/inject', { task: `Work on ${WORDS}`, ...body });
      expect(res.json.injected_ids.sort()).toEqual([below.id, top.id].sort());
    }
  });
});

describe('and never widens access', () => {
  it('a member of a sub-group only does not reach the parent through it', async () => {
    expect(await list(dbOnly, platform.scope)).toEqual({ rows: [], total_count: 0 });
    const recalled = await org.as(dbOnly, 'POST', '/api/v1/recall', {
      query: WORDS,
      scopes: [platform.scope],
    });
    expect(recalled.json.results).toEqual([]);
    expect(recalled.json.dropped_scopes).toEqual([platform.scope]);
    const injected = await org.as(dbOnly, 'POST', '/api/v1/inject', { task: WORDS, scope: platform.scope });
    expect(injected.json.injected_ids).toEqual([]);
    expect(ids((await list(dbOnly, db.scope)).rows)).toEqual([below.id]);
  });

  it('a scope whose name only starts the same way is not below it', async () => {
    expect(ids((await list(member, platform.scope)).rows)).not.toContain(sibling.id);
    expect(ids((await list(member, `group:${org.id}/platform-old`)).rows)).toEqual([sibling.id]);
  });

  it("another organisation's scopes stay invisible, even to the organisation admin", async () => {
    const res = await org.admin('POST', '/api/v1/recall', {
      query: WORDS,
      scopes: [`group:${other.id}/platform`, 'group:platform'],
    });
    expect(res.json.dropped_scopes).toEqual([`group:${other.id}/platform`]);
    expect(ids(res.json.results)).toEqual([below.id, top.id].sort());
    // Engram ids count per organisation, so the rival's engram is told apart by its statement.
    const statements = res.json.results.map((r: { statement: string }) => r.statement);
    expect(statements).not.toContain(foreign.statement);
    const listed = await org.admin('GET', `/api/v1/engrams?scope=${encodeURIComponent(`group:${other.id}`)}`);
    expect(listed.json).toEqual({ rows: [], total_count: 0 });
  });
});
