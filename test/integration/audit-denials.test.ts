import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import { connectMcp } from '../helpers/mcp.js';
import type { TestResponse, TestServer } from '../helpers/server.js';

/**
 * Denials and rate-limit rejections in the audit trail, over real HTTP: a 401 of a known credential (a
 * revoked key) is an `auth.denied` entry naming the key id and never the secret, in the key's
 * organisation, over REST and MCP; a 403 is one entry (once, even where the refusing code audits its own);
 * an unknown key belongs to no organisation and is counted nowhere but the per-address limiter; several
 * 429s of one credential in one minute are one `rate_limit.exceeded` entry, and every one is in insights.
 * Two servers share the Redis: `limited` has a low rate limit, `server` none.
 * Entries are written off the request path, so the test polls for them.
 */
let server: TestServer;
let limited: TestServer;
const RPM = 3;

beforeAll(async () => {
  server = await startEngramServer();
  limited = await startEngramServer({ engramRateLimitRpm: RPM, engramWriteRateLimitRpm: RPM });
});

afterAll(async () => {
  await server?.close();
  await limited?.close();
});

interface Row {
  action: string;
  outcome: string;
  channel: string;
  actor: { type: string; id: string; username: string | null };
  target: { type: string; id: string };
  payload: Record<string, unknown> | null;
  request_id: string;
}

/** Polls the organisation's trail for `action` until `count` entries are there (20 s at most). */
async function entries(org: Org, action: string, count: number): Promise<{ rows: Row[]; raw: string }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await org.admin('GET', `/api/v1/admin/audit?action=${action}&limit=500`);
    expect(res.status).toBe(200);
    const rows = res.json.rows as Row[];
    if (rows.length >= count || Date.now() > deadline) return { rows, raw: res.text };
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function insightsToday(org: Org, ready: (day: Record<string, number>) => boolean) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res: TestResponse = await org.admin('GET', '/api/v1/admin/insights?days=1');
    expect(res.status).toBe(200);
    const day = res.json.daily[0] as Record<string, number>;
    if (ready(day) || Date.now() > deadline) return day;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('401s and 403s in the audit trail', () => {
  let org: Org;
  let bystander: Org;
  let viewer: TestUser;
  let editor: TestUser;
  let revoked: { id: string; key: string };

  beforeAll(async () => {
    org = new Org(server, 'deny');
    bystander = new Org(server, 'deny-other');
    viewer = await org.user('vera', 'viewer');
    editor = await org.user('eddie', 'editor');
    await bystander.user('someone');
    const issued = await org.admin('POST', '/api/v1/admin/api-keys', { user_id: editor.id });
    expect(issued.status).toBe(201);
    revoked = { id: issued.json.id, key: issued.json.key };
    expect((await org.as(revoked.key, 'GET', '/api/v1/me')).status).toBe(200);
    expect((await org.admin('DELETE', `/api/v1/admin/api-keys/${revoked.id}`)).status).toBeLessThan(300);
  });

  it('writes auth.denied with the revoked key’s id, never the secret, and counts it in insights', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await org.as(revoked.key, 'GET', '/api/v1/engrams');
      expect(res.status).toBe(401);
      expect(res.json.status).toBe(401);
    }
    const { rows, raw } = await entries(org, 'auth.denied', 2);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ action: 'auth.denied', outcome: 'denied', channel: 'rest' });
      expect(row.actor).toMatchObject({ type: 'user', id: editor.id });
      expect(row.target).toEqual({ type: 'request', id: 'GET /api/v1/engrams' });
      expect(row.payload).toMatchObject({
        status: 401,
        key_id: revoked.id,
        credential_id: `plur:${revoked.id}`,
        reason: 'revoked',
      });
    }
    expect(raw).not.toContain(revoked.key);
    expect(raw).not.toContain(revoked.key.slice(-12));
    const day = await insightsToday(org, (d) => d.auth_failures === 2);
    expect(day.auth_failures).toBe(2);
    // The bystander organisation has none of it.
    expect((await entries(bystander, 'auth.denied', 0)).rows).toEqual([]);
    expect((await insightsToday(bystander, () => true)).auth_failures).toBe(0);
  });

  it('an unknown key belongs to no organisation: no entry anywhere, no organisation counts it', async () => {
    const before = (await entries(org, 'auth.denied', 0)).rows.length;
    const unknown = `plur_sk_${randomHex(24)}`;
    expect((await org.as(unknown, 'GET', '/api/v1/engrams')).status).toBe(401);
    // A known denial afterwards: once it is in, the unknown one (sent first) would have been too.
    expect((await org.as(revoked.key, 'GET', '/api/v1/me')).status).toBe(401);
    const { rows, raw } = await entries(org, 'auth.denied', before + 1);
    expect(rows).toHaveLength(before + 1);
    expect(raw).not.toContain(unknown);
    expect((await insightsToday(org, (d) => d.auth_failures === 3)).auth_failures).toBe(3);
    expect((await entries(bystander, 'auth.denied', 0)).rows).toEqual([]);
  });

  it('writes one auth.denied for a 403, and none more where the refusal audits itself', async () => {
    const write = await org.as(viewer, 'POST', '/api/v1/engrams', { statement: 'Viewers cannot write.' });
    expect(write.status).toBe(403);
    const { rows } = await entries(org, 'auth.denied', 4);
    const forbidden = rows.filter((r) => r.payload?.status === 403);
    expect(forbidden).toHaveLength(1);
    expect(forbidden[0]).toMatchObject({
      outcome: 'denied',
      actor: { type: 'user', id: viewer.id, username: 'vera' },
      target: { type: 'request', id: 'POST /api/v1/engrams' },
      request_id: write.headers.get('x-request-id'),
    });
    expect(forbidden[0]?.payload).toMatchObject({ reason: 'insufficient_permission' });

    // The admin guard writes its own denied entry (users.list); the transport adds no second one.
    const admin = await org.as(viewer, 'GET', '/api/v1/admin/users');
    expect(admin.status).toBe(403);
    const guard = await org.admin('GET', `/api/v1/admin/audit?outcome=denied&actor=${viewer.id}&limit=500`);
    const forRequest = (guard.json.rows as Row[]).filter(
      (r) => r.request_id === admin.headers.get('x-request-id'),
    );
    expect(forRequest).toHaveLength(1);
    expect(forRequest[0]?.action).not.toBe('auth.denied');
    // A 403 is a denial, not a failed authentication.
    expect((await insightsToday(org, () => true)).auth_failures).toBe(3);
  });

  it('names a deactivated user’s key, and a 403 of an MCP tool, each once', async () => {
    const leaving = await org.user('leaving', 'editor');
    expect((await org.admin('DELETE', `/api/v1/admin/users/${leaving.id}`)).status).toBeLessThan(300);
    const before = (await entries(org, 'auth.denied', 0)).rows.length;
    expect((await org.as(leaving, 'GET', '/api/v1/engrams')).status).toBe(401);
    const mcp = await connectMcp(server.url, viewer.key);
    try {
      const refused = await mcp.call('plur_learn', { statement: 'Viewers cannot learn over MCP either.' });
      expect(refused.isError).toBe(true);
      expect((refused.structuredContent as { status: number }).status).toBe(403);
    } finally {
      await mcp.close();
    }
    const { rows, raw } = await entries(org, 'auth.denied', before + 2);
    expect(rows).toHaveLength(before + 2);
    expect(raw).not.toContain(leaving.key);
    const gone = rows.filter((r) => r.actor.id === leaving.id);
    expect(gone).toHaveLength(1);
    expect(gone[0]?.payload).toMatchObject({ status: 401, reason: 'user_inactive' });
    expect(typeof gone[0]?.payload?.key_id).toBe('string');
    expect(gone[0]?.payload?.credential_id).toBe(`plur:${String(gone[0]?.payload?.key_id)}`);
    const tool = rows.filter((r) => r.channel === 'mcp' && r.payload?.status === 403);
    expect(tool).toHaveLength(1);
    expect(tool[0]).toMatchObject({
      actor: { type: 'user', id: viewer.id },
      target: { type: 'request', id: 'tools/plur_learn' },
    });
  });

  it('audits a revoked key on /mcp with channel mcp', async () => {
    const before = (await entries(org, 'auth.denied', 0)).rows.length;
    await expect(connectMcp(server.url, revoked.key)).rejects.toThrow();
    const { rows } = await entries(org, 'auth.denied', before + 1);
    const viaMcp = rows.filter((r) => r.channel === 'mcp' && r.payload?.status === 401);
    expect(viaMcp).toHaveLength(1);
    expect(viaMcp[0]).toMatchObject({ target: { type: 'request', id: 'POST /mcp' } });
    expect(viaMcp[0]?.payload).toMatchObject({ status: 401, key_id: revoked.id });
  });
});

describe('rate-limit rejections, aggregated', () => {
  it('writes one rate_limit.exceeded per credential and minute, and counts every 429 in insights', async () => {
    // Set up and read through the unlimited server (same Redis, same keys); only the burst meets the limit.
    const org = new Org(server, 'rl');
    const user = await org.user('hasty');
    const minuteOf = () => Math.floor(Date.now() / 60_000);
    const firstMinute = minuteOf();
    let rejected = 0;
    for (let i = 0; i < RPM + 6; i++) {
      const res = await limited.request('GET', '/api/v1/engrams', { token: user.key });
      if (res.status === 429) rejected++;
      else expect(res.status).toBe(200);
    }
    const lastMinute = minuteOf();
    expect(rejected).toBeGreaterThanOrEqual(5);
    // The burst normally falls in one minute; if it crossed into the next, each minute has its own entry.
    const minutes = lastMinute - firstMinute + 1;
    const { rows } = await entries(org, 'rate_limit.exceeded', minutes);
    expect(rows).toHaveLength(minutes);
    expect(new Set(rows.map((r) => r.payload?.minute)).size).toBe(minutes);
    for (const row of rows) {
      expect(row).toMatchObject({
        outcome: 'denied',
        actor: { type: 'user', id: user.id },
        target: { type: 'credential' },
      });
      expect(row.payload).toMatchObject({ count: 1, limit_per_minute: RPM });
      expect(String(row.payload?.credential_id)).toMatch(/^plur:/);
    }
    const day = await insightsToday(org, (d) => d.rate_limited === rejected);
    expect(day.rate_limited).toBe(rejected);
  });
});
