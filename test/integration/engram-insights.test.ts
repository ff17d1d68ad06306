import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, PROBLEM_FIELDS, startEngramServer, type TestUser } from '../helpers/engram.js';
import { connectMcp, type McpSession } from '../helpers/mcp.js';
import type { TestResponse, TestServer } from '../helpers/server.js';

/**
 * GET /api/v1/admin/insights over real HTTP: every figure matches what the test did (engram counts by scope
 * and status after creates, retires and promotes; recall, inject and learn volume of today, MCP included;
 * failed authentications and 429s; active users; health), `days` validation, permissions, and another
 * organisation's activity never counted. Counters are written off the request path, so the test polls the
 * report until it shows what was done (never a sleep), then asserts every figure.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startEngramServer();
});

afterAll(async () => {
  await server?.close();
});

interface Daily {
  date: string;
  recall: number;
  inject: number;
  learn: number;
  auth_failures: number;
  rate_limited: number;
}

/** Polls the report until `ready` holds (20 s at most) and returns the last one either way. */
async function insightsWhen(
  org: Org,
  ready: (body: TestResponse['json']) => boolean,
  query = '',
): Promise<TestResponse> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await org.admin('GET', `/api/v1/admin/insights${query}`);
    if (res.status !== 200 || ready(res.json) || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const today = (body: TestResponse['json']): Daily => body.daily[body.daily.length - 1] as Daily;

describe('insights of an organisation', () => {
  let org: Org;
  let other: Org;
  let alice: TestUser;
  let bob: TestUser;
  let boss: TestUser;
  let stranger: TestUser;
  let mcp: McpSession;
  const created: { id: string; scope: string }[] = [];
  const retrieved = new Set<string>();

  beforeAll(async () => {
    org = new Org(server, 'ins');
    other = new Org(server, 'ins-other');
    alice = await org.user('alice');
    bob = await org.user('bob');
    boss = await org.user('boss', 'admin');
    stranger = await other.user('stranger');

    // Sessions first, while nothing is active yet (a session start injects, and counts as an inject).
    const session = await org.as(alice, 'POST', '/api/v1/sessions', { task: 'write the runbook' });
    expect(session.status).toBe(201);
    const ended = await org.as(alice, 'POST', `/api/v1/sessions/${session.json.session_id}/end`, {
      summary: 'wrote it',
      learnings: ['Runbooks live in the ops repository.', 'Every alert links to its runbook.'],
    });
    expect(ended.status).toBe(200);
    const [promoteMe, waiting] = ended.json.candidate_ids as string[];
    expect((await org.as(alice, 'POST', `/api/v1/engrams/${promoteMe}/promote`)).status).toBe(200);
    for (const id of [promoteMe, waiting] as string[]) {
      const read = await org.as(alice, 'GET', `/api/v1/engrams/${id}`);
      created.push({ id, scope: read.json.scope ?? read.json.data.scope });
    }

    const learn = async (user: TestUser, body: Record<string, unknown>) => {
      const row = await org.engram(user, body);
      created.push({ id: row.id, scope: body.scope as string });
      return row.id as string;
    };
    await learn(alice, { statement: 'Deploys go through staging first.', scope: 'global' });
    const pnpm = await learn(alice, { statement: 'Use pnpm, never npm, in the web app.', scope: 'global' });
    await learn(alice, { statement: 'Alice keeps her notes in vim.', scope: `user:${org.id}:alice` });
    // The same words as the first one after normalisation, in another scope: a near-duplicate.
    await learn(alice, { statement: 'deploys  go through STAGING first', scope: `user:${org.id}:alice` });
    const rollback = await learn(bob, { statement: 'Rollbacks need a change ticket.', scope: 'global' });
    await learn(bob, {
      statement: 'The old VPN gateway is the way in.',
      scope: 'global',
      valid_until: '2020-01-01T00:00:00.000Z',
    });
    // A re-learn of the same statement in the same scope is not a create.
    const again = await org.as(alice, 'POST', '/api/v1/engrams', {
      statement: 'Use pnpm, never npm, in the web app.',
      scope: 'global',
    });
    expect(again.json.id).toBe(pnpm);
    expect((await org.as(bob, 'DELETE', `/api/v1/engrams/${rollback}`)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await org.as(bob, 'POST', `/api/v1/engrams/${pnpm}/feedback`, { signal: 'negative' });
      expect(res.status).toBe(200);
    }

    // Reads: 2 recalls by alice, 1 by bob over REST, 1 over MCP; 1 inject over REST.
    for (const [user, query] of [
      [alice, 'staging'],
      [alice, 'staging deploys'],
      [bob, 'notes vim'],
    ] as const) {
      const res = await org.as(user, 'POST', '/api/v1/recall', { query, mode: 'keyword' });
      expect(res.status).toBe(200);
      for (const r of res.json.results) retrieved.add(r.id);
    }
    const injected = await org.as(bob, 'POST', '/api/v1/inject', { task: 'staging deploys with pnpm' });
    expect(injected.status).toBe(200);
    for (const id of injected.json.injected_ids) retrieved.add(id);
    mcp = await connectMcp(server.url, alice.key);
    const viaMcp = await mcp.ok('plur_recall', { query: 'runbook alert' });
    for (const r of viaMcp.results ?? []) retrieved.add(r.id);

    // Another organisation's activity, which must not show in the first one's figures.
    await other.engram(stranger, { statement: 'Stranger things are never counted.', scope: 'global' });
    await other.as(stranger, 'POST', '/api/v1/recall', { query: 'stranger', mode: 'keyword' });
  });

  afterAll(async () => {
    await mcp?.close();
  });

  it('counts engrams by scope and status, and today’s recall, inject and learn volume', async () => {
    const res = await insightsWhen(
      org,
      (b) => today(b).recall === 4 && today(b).inject === 2 && b.active_users.last_7_days === 3,
      '?days=7',
    );
    expect(res.status).toBe(200);
    const body = res.json;
    expect(body.org_id).toBe(org.id);
    expect(body.days).toBe(7);
    expect(Date.parse(body.generated_at)).not.toBeNaN();
    expect(body.engrams.total).toBe(8);
    expect(body.engrams.by_status).toEqual({ active: 6, candidate: 1, dormant: 0, retired: 1 });
    const byScope = new Map<string, number>();
    for (const c of created) byScope.set(c.scope, (byScope.get(c.scope) ?? 0) + 1);
    expect(
      new Map(body.engrams.by_scope.map((r: { scope: string; count: number }) => [r.scope, r.count])),
    ).toEqual(byScope);
    const counts = body.engrams.by_scope.map((r: { count: number }) => r.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));

    expect(body.daily).toHaveLength(7);
    const dates = body.daily.map((d: Daily) => d.date);
    expect(dates).toEqual([...dates].sort());
    expect(today(body).date).toBe(new Date().toISOString().slice(0, 10));
    // Six POST /engrams creates (the re-learn and the session's candidates are not learns).
    expect(today(body)).toMatchObject({ recall: 4, inject: 2, learn: 6, auth_failures: 0, rate_limited: 0 });
    for (const day of body.daily.slice(0, -1))
      expect(day).toMatchObject({ recall: 0, inject: 0, learn: 0, auth_failures: 0, rate_limited: 0 });
    // alice, bob and boss (the stranger is another organisation's; the admin key is not a user).
    expect(body.active_users).toEqual({ last_7_days: 3, last_30_days: 3 });
  });

  it('reports engram health from the documents as they stand', async () => {
    const res = await insightsWhen(org, (b) => b.engrams.total === 8);
    const activeIds = new Set<string>();
    for (const c of created) {
      // alice wrote or can read every one of them (her personal scope is not the admin key's to read).
      const read = await org.as(alice, 'GET', `/api/v1/engrams/${c.id}`);
      expect(read.status).toBe(200);
      if (read.json.status === 'active') activeIds.add(c.id);
    }
    expect(activeIds.size).toBe(6);
    const neverRetrieved = [...activeIds].filter((id) => !retrieved.has(id)).length;
    expect(retrieved.size).toBeGreaterThan(0);
    expect(res.json.health).toEqual({
      never_retrieved: neverRetrieved,
      net_negative_feedback: 1,
      validity_expired: 1,
      candidates_waiting: 1,
      near_duplicates: 2,
    });
    expect(res.json.webhooks).toEqual({
      endpoints: 0,
      endpoints_failing: 0,
      deliveries: { delivered: 0, failed: 0, pending: 0 },
    });
  });

  it('answers 30 days by default and refuses days outside 1..90 with a problem document', async () => {
    const res = await org.admin('GET', '/api/v1/admin/insights');
    expect(res.status).toBe(200);
    expect(res.json.days).toBe(30);
    expect(res.json.daily).toHaveLength(30);
    expect((await org.admin('GET', '/api/v1/admin/insights?days=90')).json.daily).toHaveLength(90);
    expect((await org.admin('GET', '/api/v1/admin/insights?days=1')).json.daily).toHaveLength(1);
    for (const days of ['0', '91', '-3', '2.5', 'week', '']) {
      const bad = await org.admin('GET', `/api/v1/admin/insights?days=${days}`);
      expect(bad.status, `days=${days}`).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      for (const field of PROBLEM_FIELDS) expect(bad.json).toHaveProperty(field);
    }
  });

  it('is for organisation admins: editors get 403, no credential 401', async () => {
    const editor = await org.as(alice, 'GET', '/api/v1/admin/insights');
    expect(editor.status).toBe(403);
    for (const field of PROBLEM_FIELDS) expect(editor.json).toHaveProperty(field);
    expect((await server.request('GET', '/api/v1/admin/insights')).status).toBe(401);
    const asBoss = await org.as(boss, 'GET', '/api/v1/admin/insights?days=2');
    expect(asBoss.status).toBe(200);
    expect(asBoss.json.org_id).toBe(org.id);
  });

  it('never counts another organisation: each admin sees only their own', async () => {
    const res = await insightsWhen(other, (b) => today(b).recall === 1 && today(b).learn === 1);
    expect(res.json.org_id).toBe(other.id);
    expect(res.json.engrams.total).toBe(1);
    expect(res.json.engrams.by_scope).toEqual([{ scope: 'global', count: 1 }]);
    expect(today(res.json)).toMatchObject({ recall: 1, inject: 0, learn: 1 });
    expect(res.json.active_users).toEqual({ last_7_days: 1, last_30_days: 1 });
    // The admin key names its organisation in X-Mnemo-Org; a user key always acts on its own.
    const mine = await insightsWhen(org, (b) => today(b).recall === 4);
    expect(mine.json.engrams.total).toBe(8);
    expect(today(mine.json).learn).toBe(6);
  });

  it('follows every change at once: a create and a retire move the counts, a passing valid_until expires', async () => {
    const before = (await org.admin('GET', '/api/v1/admin/insights?days=1')).json;
    const soon = new Date(Date.now() + 1500).toISOString();
    const row = await org.engram(bob, {
      statement: 'Valid for a moment only.',
      scope: 'global',
      valid_until: soon,
    });
    const created = (await org.admin('GET', '/api/v1/admin/insights?days=1')).json;
    expect(created.engrams.total).toBe(before.engrams.total + 1);
    expect(created.engrams.by_status.active).toBe(before.engrams.by_status.active + 1);
    expect(created.health.never_retrieved).toBe(before.health.never_retrieved + 1);
    const expired = await insightsWhen(
      org,
      (b) => b.health.validity_expired === before.health.validity_expired + 1,
      '?days=1',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(soon));
    expect(expired.json.health.validity_expired).toBe(before.health.validity_expired + 1);
    expect((await org.as(bob, 'DELETE', `/api/v1/engrams/${row.id}`)).status).toBe(200);
    const retired = (await org.admin('GET', '/api/v1/admin/insights?days=1')).json;
    expect(retired.engrams.by_status).toEqual({
      ...before.engrams.by_status,
      retired: before.engrams.by_status.retired + 1,
    });
    expect(retired.health).toEqual(before.health);
  });
});
