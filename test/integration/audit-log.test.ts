import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, PROBLEM_FIELDS, startEngramServer, type TestUser } from '../helpers/engram.js';
import { ADMIN_KEY, type TestServer } from '../helpers/server.js';

/**
 * GET /api/v1/admin/audit over real HTTP: every audited action appears once with actor, target, outcome and
 * channel; filters, cursor pages, the ndjson export, another organisation's trail, bad input, permissions.
 */
let server: TestServer;
let hashing: TestServer;

beforeAll(async () => {
  server = await startEngramServer();
  hashing = await startEngramServer({ auditHashIps: true });
});

afterAll(async () => {
  await server?.close();
  await hashing?.close();
});

interface Row {
  id: string;
  ts: string;
  actor: { type: string; id: string; username: string | null };
  action: string;
  target: { type: string; id: string };
  channel: string;
  outcome: string;
  request_id: string;
  ip: string | null;
  user_agent: string | null;
  payload: Record<string, unknown> | null;
}

async function allPages(org: Org, query: string, limit: number): Promise<{ rows: Row[]; pages: number }> {
  const rows: Row[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await org.admin('GET', `/api/v1/admin/audit?limit=${limit}${query}${suffix}`);
    expect(res.status).toBe(200);
    rows.push(...(res.json.rows as Row[]));
    cursor = res.json.next_cursor;
    pages++;
    if (pages > 100) throw new Error('paging does not end');
  } while (cursor !== null);
  return { rows, pages };
}

describe('the audit trail', () => {
  let org: Org;
  let alice: TestUser;
  let boss: TestUser;
  let engramId: string;
  let candidateId: string;

  beforeAll(async () => {
    org = new Org(server);
    alice = await org.user('alice', 'editor');
    boss = await org.user('boss', 'admin');
    const created = await org.engram(alice, {
      statement: 'Audit trails name their actors.',
      scope: `org:${org.id}`,
    });
    engramId = created.id;
    expect((await org.as(alice, 'PATCH', `/api/v1/engrams/${engramId}`, { tags: ['audit'] })).status).toBe(
      200,
    );
    expect(
      (await org.as(alice, 'POST', `/api/v1/engrams/${engramId}/feedback`, { signal: 'positive' })).status,
    ).toBe(200);
    const started = await org.as(alice, 'POST', '/api/v1/sessions', {
      task: 'Audit the audit',
      scope: `org:${org.id}`,
    });
    expect(started.status).toBe(201);
    const ended = await org.as(alice, 'POST', `/api/v1/sessions/${started.json.session_id}/end`, {
      summary: 'Done.',
      learnings: ['Cursor pages never repeat a row.'],
    });
    expect(ended.status).toBe(200);
    candidateId = ended.json.candidate_ids[0];
    expect((await org.as(alice, 'POST', `/api/v1/engrams/${candidateId}/promote`, {})).status).toBe(200);
    // Denied: an editor may not pin; allowed: an org admin may.
    expect((await org.as(alice, 'POST', `/api/v1/engrams/${engramId}/pin`, {})).status).toBe(403);
    expect((await org.as(boss, 'POST', `/api/v1/engrams/${engramId}/pin`, {})).status).toBe(200);
    expect((await org.as(alice, 'DELETE', `/api/v1/engrams/${engramId}`)).status).toBe(200);
    // Retiring twice changes nothing and is not audited twice.
    expect((await org.as(alice, 'DELETE', `/api/v1/engrams/${engramId}`)).status).toBe(200);
  });

  it("lists each of a user's audited actions once, with actor, target, outcome and channel", async () => {
    const res = await org.admin('GET', `/api/v1/admin/audit?actor=${alice.id}&limit=500`);
    expect(res.status).toBe(200);
    expect(res.json.next_cursor).toBeNull();
    const rows = res.json.rows as Row[];
    const summary = rows.map((r) => [r.action, r.target.type, r.target.id, r.outcome, r.channel]).reverse();
    const sessionId = rows.find((r) => r.action === 'session.start')?.target.id;
    expect(summary.filter(([action]) => !String(action).startsWith('apikey.'))).toEqual([
      ['engram.create', 'engram', engramId, 'success', 'rest'],
      ['engram.update', 'engram', engramId, 'success', 'rest'],
      ['engram.feedback', 'engram', engramId, 'success', 'rest'],
      ['session.start', 'session', sessionId, 'success', 'rest'],
      ['session.end', 'session', sessionId, 'success', 'rest'],
      ['engram.promote', 'engram', candidateId, 'success', 'rest'],
      ['engram.pin', 'engram', engramId, 'denied', 'rest'],
      ['engram.retire', 'engram', engramId, 'success', 'rest'],
    ]);
    for (const row of rows) {
      expect(row.actor).toEqual({ type: 'user', id: alice.id, username: 'alice' });
      expect(row.id).toMatch(/^aud_/);
      expect(Date.parse(row.ts)).not.toBeNaN();
      expect(row.ip).toEqual(expect.any(String));
      expect(row.request_id).not.toBe('');
    }
    // Newest first.
    const times = rows.map((r) => Date.parse(r.ts));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    // The feedback says which signal; update says which fields, never their values.
    expect(rows.find((r) => r.action === 'engram.feedback')?.payload).toMatchObject({ signal: 'positive' });
    expect(rows.find((r) => r.action === 'engram.update')?.payload).toMatchObject({ fields: ['tags'] });
  });

  it('names the admin channel for the admin key and keeps the user agent', async () => {
    const res = await org.server.request('GET', `/api/v1/admin/audit?action=user.create&limit=10`, {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': org.id, 'user-agent': 'audit-test/1.0' },
    });
    expect(res.status).toBe(200);
    const rows = res.json.rows as Row[];
    expect(rows.map((r) => r.target.id).sort()).toEqual([alice.id, boss.id].sort());
    for (const row of rows) {
      expect(row.channel).toBe('admin');
      expect(row.actor).toEqual({ type: 'admin', id: 'admin-key', username: 'admin' });
    }
    await org.server.request('POST', '/api/v1/admin/groups', {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': org.id, 'user-agent': 'audit-test/1.0' },
      body: { name: 'agents' },
    });
    const group = await org.admin('GET', '/api/v1/admin/audit?action=group.create');
    expect(group.json.rows).toHaveLength(1);
    expect(group.json.rows[0].user_agent).toBe('audit-test/1.0');
  });

  it('filters by action prefix, outcome, channel, target and time', async () => {
    const engramRows = (await org.admin('GET', '/api/v1/admin/audit?action=engram.*&limit=500')).json
      .rows as Row[];
    expect(engramRows.length).toBe(7);
    expect(engramRows.every((r) => r.action.startsWith('engram.'))).toBe(true);

    const denied = (await org.admin('GET', '/api/v1/admin/audit?outcome=denied')).json.rows as Row[];
    expect(denied.map((r) => [r.action, r.actor.id])).toEqual([['engram.pin', alice.id]]);

    const byTarget = (await org.admin('GET', `/api/v1/admin/audit?target=engram:${engramId}`)).json
      .rows as Row[];
    expect(byTarget.map((r) => r.action).reverse()).toEqual([
      'engram.create',
      'engram.update',
      'engram.feedback',
      'engram.pin',
      'engram.pin',
      'engram.retire',
    ]);
    expect(
      ((await org.admin('GET', `/api/v1/admin/audit?target=session:${engramId}`)).json.rows as Row[]).length,
    ).toBe(0);

    const viaAdmin = (await org.admin('GET', '/api/v1/admin/audit?channel=admin&limit=500')).json
      .rows as Row[];
    expect(viaAdmin.length).toBeGreaterThan(0);
    expect(viaAdmin.every((r) => r.actor.type === 'admin')).toBe(true);

    const all = (await org.admin('GET', '/api/v1/admin/audit?limit=500')).json.rows as Row[];
    const middle = all[Math.floor(all.length / 2)] as Row;
    const older = (await org.admin('GET', `/api/v1/admin/audit?to=${middle.ts}&limit=500`)).json
      .rows as Row[];
    expect(older.length).toBeGreaterThan(0);
    expect(older.every((r) => r.ts <= middle.ts)).toBe(true);
    const newer = (await org.admin('GET', `/api/v1/admin/audit?from=${middle.ts}&limit=500`)).json
      .rows as Row[];
    expect(newer.every((r) => r.ts >= middle.ts)).toBe(true);
    expect(new Set([...older, ...newer].map((r) => r.id)).size).toBe(all.length);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await org.admin('GET', `/api/v1/admin/audit?from=${future}`)).json.rows).toEqual([]);
  });

  it('walks cursor pages without repeating or skipping a row', async () => {
    const whole = (await org.admin('GET', '/api/v1/admin/audit?limit=500')).json.rows as Row[];
    const { rows, pages } = await allPages(org, '', 3);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(whole.length / 3));
    expect(rows.map((r) => r.id)).toEqual(whole.map((r) => r.id));
    const filtered = await allPages(org, '&action=engram.*', 2);
    expect(filtered.rows.map((r) => r.id)).toEqual(
      whole.filter((r) => r.action.startsWith('engram.')).map((r) => r.id),
    );
  });

  it('streams the whole filtered range as ndjson, and audits the export', async () => {
    const whole = (await org.admin('GET', `/api/v1/admin/audit?actor=${alice.id}&limit=500`)).json
      .rows as Row[];
    const res = await fetch(`${server.url}/api/v1/admin/audit?format=ndjson&actor=${alice.id}&limit=1`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-mnemo-org': org.id },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Row);
    expect(lines).toEqual(whole);
    const exports = (await org.admin('GET', '/api/v1/admin/audit?action=audit.export')).json.rows as Row[];
    expect(exports).toHaveLength(1);
    expect(exports[0]?.payload).toEqual({ actor: alice.id });
  });

  it('streams a trail longer than one chunk completely', async () => {
    const big = new Org(server, 'bigtrail');
    const entries = 1_200;
    const audit = server.services.audit;
    for (let i = 0; i < entries; i++) {
      await audit.record(
        audit.entry(
          { org: big.id, actor: { type: 'system', id: 'seed' }, requestId: `r${i}` },
          'seed.entry',
          { type: 'seed', id: String(i) },
        ),
      );
    }
    const res = await fetch(`${server.url}/api/v1/admin/audit?format=ndjson&action=seed.entry`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-mnemo-org': big.id },
    });
    const lines = (await res.text()).trim().split('\n');
    expect(lines).toHaveLength(entries);
    expect(JSON.parse(lines[0] as string).target.id).toBe(String(entries - 1));
    expect(JSON.parse(lines[entries - 1] as string).target.id).toBe('0');
  });

  it("never shows another organisation's entries, whatever the filter or cursor", async () => {
    const other = new Org(server, 'other');
    const carol = await other.user('carol', 'admin');
    const mine = await org.admin('GET', '/api/v1/admin/audit?limit=1');
    const theirs = (await allPages(other, '', 50)).rows;
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.some((r) => r.actor.id === alice.id || r.target.id === engramId)).toBe(false);
    expect((await other.admin('GET', `/api/v1/admin/audit?actor=${alice.id}`)).json.rows).toEqual([]);
    // A cursor from one organisation is only a position: in another it reads that organisation's trail.
    const crossed = await other.as(
      carol,
      'GET',
      `/api/v1/admin/audit?cursor=${encodeURIComponent(mine.json.next_cursor)}&limit=500`,
    );
    expect(crossed.status).toBe(200);
    expect((crossed.json.rows as Row[]).some((r) => r.actor.id === alice.id)).toBe(false);
  });

  it('is for organisation admins: others get 403 and the attempt is audited', async () => {
    const res = await org.as(alice, 'GET', '/api/v1/admin/audit');
    expect(res.status).toBe(403);
    expect(Object.keys(res.json).sort()).toEqual([...PROBLEM_FIELDS].sort());
    const ndjson = await org.as(alice, 'GET', '/api/v1/admin/audit?format=ndjson');
    expect(ndjson.status).toBe(403);
    const denied = (await org.admin('GET', '/api/v1/admin/audit?action=audit.*')).json.rows as Row[];
    expect(denied.filter((r) => r.actor.id === alice.id).map((r) => [r.action, r.outcome])).toEqual([
      ['audit.export', 'denied'],
      ['audit.query', 'denied'],
    ]);
    // An org admin user reads it.
    expect((await org.as(boss, 'GET', '/api/v1/admin/audit')).status).toBe(200);
    expect((await server.request('GET', '/api/v1/admin/audit')).status).toBe(401);
    expect((await server.request('GET', '/api/v1/admin/audit', { token: 'plur_sk_nope' })).status).toBe(401);
  });

  it.each([
    ['limit=0'],
    ['limit=501'],
    ['limit=ten'],
    ['outcome=maybe'],
    ['channel=carrier-pigeon'],
    ['from=yesterday'],
    ['to=2026-13-45T00:00:00Z'],
    ['from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z'],
    ['cursor=not-a-cursor'],
    [`cursor=${Buffer.from('a1:../../etc').toString('base64url')}`],
    ['format=xml'],
    [`actor=${'x'.repeat(201)}`],
  ])('answers 400 for %s', async (query) => {
    const res = await org.admin('GET', `/api/v1/admin/audit?${query}`);
    expect(res.status).toBe(400);
    expect(Object.keys(res.json).sort()).toEqual([...PROBLEM_FIELDS].sort());
  });
});

describe('audit retention and addresses', () => {
  it('stores a keyed hash instead of the address with MNEMO_AUDIT_HASH_IPS', async () => {
    const org = new Org(hashing, 'hashed');
    await org.user('dora', 'viewer');
    const rows = (await org.admin('GET', '/api/v1/admin/audit?action=user.create')).json.rows as Row[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.ip).toMatch(/^h:[0-9a-f]{32}$/);
    expect(rows[0]?.ip).not.toContain('127.0.0.1');
    // Equal addresses hash equally, so one client's entries still group together.
    const all = (await org.admin('GET', '/api/v1/admin/audit?limit=500')).json.rows as Row[];
    expect(new Set(all.map((r) => r.ip)).size).toBe(1);
  });

  it('trims entries older than the age limit', async () => {
    const org = new Org(server, 'aged');
    await org.user('eve', 'viewer');
    const audit = server.services.audit;
    expect((await org.admin('GET', '/api/v1/admin/audit')).json.rows.length).toBeGreaterThan(0);
    // As if a year and a day had passed: every entry is past the default 365-day limit.
    await audit.trimByAge(org.id, Date.now() + 366 * 86_400_000);
    expect(await audit.recent(org.id)).toEqual([]);
  });
});
