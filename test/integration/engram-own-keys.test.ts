import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_KEYS_PER_USER } from '../../src/auth/own-keys.js';
import { orgTenant } from '../../src/tenant.js';
import { Org, PROBLEM_FIELDS, startEngramServer } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/**
 * Personal scopes are never shared, not even with organisation admins: a key an admin issues for someone
 * else does not open their personal scope; users mint, list and revoke their own keys at /api/v1/me/api-keys.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startEngramServer();
});
afterAll(async () => {
  await server.close();
});

const issueFor = async (org: Org, userId: string, extra: Record<string, unknown> = {}) => {
  const res = await org.admin('POST', '/api/v1/admin/api-keys', { user_id: userId, ...extra });
  expect(res.status).toBe(201);
  return res.json;
};

const eventTypes = async (org: Org) =>
  (await server.services.events.read(orgTenant(org.id), '0-0', 1000)).events.map((e) => e.type);

describe('keys an admin issues for someone else', () => {
  it('do not open that user’s personal scope', async () => {
    const org = new Org(server, 'keys');
    const alice = await org.user('alice');
    const secret = await org.engram(alice, {
      statement: 'Alice keeps her therapist appointments on Tuesdays.',
      scope: `user:${org.id}:alice`,
    });

    const issued = await issueFor(org, alice.id);
    expect(issued.personal).toBe(false);
    const me = await org.as(issued.key, 'GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json.scopes).not.toContain(`user:${org.id}:alice`);
    expect((await org.as(issued.key, 'GET', `/api/v1/engrams/${secret.id}`)).status).toBe(404);
    const listed = await org.as(issued.key, 'GET', `/api/v1/engrams?scope=user:${org.id}:alice`);
    expect(JSON.stringify(listed.json)).not.toContain(secret.id);
    const recall = await org.as(issued.key, 'POST', '/api/v1/recall', { query: 'therapist appointments' });
    expect(JSON.stringify(recall.json)).not.toContain(secret.id);
    const write = await org.as(issued.key, 'POST', '/api/v1/engrams', {
      statement: 'Written into Alice’s personal scope by someone else.',
      scope: `user:${org.id}:alice`,
    });
    expect(write.status).toBe(403);

    // Her own key still reads it.
    expect((await org.as(alice, 'GET', `/api/v1/engrams/${secret.id}`)).status).toBe(200);
  });

  it('open the personal scope at most once: exchanging one for an own key spends it', async () => {
    const org = new Org(server, 'keys');
    const bob = await org.user('bob');
    const issued = await issueFor(org, bob.id);
    const own = await org.as(issued.key, 'POST', '/api/v1/me/api-keys', { label: 'laptop' });
    expect(own.status).toBe(201);
    expect(own.json).toMatchObject({ user_id: bob.id, label: 'laptop', personal: true });
    expect(own.json.key).toMatch(/^plur_sk_[0-9a-f]{48}$/);
    expect((await org.as(own.json.key, 'GET', '/api/v1/me')).json.scopes).toContain(`user:${org.id}:bob`);
    // The admin-issued key is spent: a second exchange (or any use) is refused.
    const again = await org.as(issued.key, 'POST', '/api/v1/me/api-keys', {});
    expect(again.status).toBe(401);
    expect(Object.keys(again.json)).toEqual(expect.arrayContaining(PROBLEM_FIELDS));
  });
});

describe('/api/v1/me/api-keys', () => {
  it('mints, lists and revokes the caller’s own keys, audited and announced', async () => {
    const org = new Org(server, 'keys');
    const alice = await org.user('alice');
    const bob = await org.user('bob');
    const minted = await org.as(alice, 'POST', '/api/v1/me/api-keys', {
      label: 'ci',
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(minted.status).toBe(201);
    expect(minted.json.personal).toBe(true);

    const listed = await org.as(alice, 'GET', '/api/v1/me/api-keys');
    expect(listed.status).toBe(200);
    expect(listed.json.rows.every((r: { user_id: string }) => r.user_id === alice.id)).toBe(true);
    expect(listed.json.rows[0]).toMatchObject({
      id: minted.json.id,
      label: 'ci',
      active: true,
      personal: true,
    });
    expect(JSON.stringify(listed.json)).not.toContain(minted.json.key);

    // Another user's key id is unknown to me, and stays active.
    const bobsKeys = (await org.as(bob, 'GET', '/api/v1/me/api-keys')).json.rows as { id: string }[];
    const bobsKey = bobsKeys.find((r) => r.id !== undefined)!;
    const foreign = await org.as(alice, 'DELETE', `/api/v1/me/api-keys/${bobsKey.id}`);
    expect(foreign.status).toBe(404);
    expect(Object.keys(foreign.json)).toEqual(expect.arrayContaining(PROBLEM_FIELDS));
    expect((await org.as(bob, 'GET', '/api/v1/me')).status).toBe(200);

    const revoked = await org.as(alice, 'DELETE', `/api/v1/me/api-keys/${minted.json.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toEqual({ id: minted.json.id, revoked: true });
    expect((await org.as(minted.json.key, 'GET', '/api/v1/me')).status).toBe(401);
    expect((await org.as(alice, 'GET', '/api/v1/me')).status).toBe(200);

    const audit = (await server.services.audit.recent(org.id)).filter((e) => e.actor.id === alice.id);
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['apikey.issue', 'apikey.list', 'apikey.revoke']),
    );
    const types = await eventTypes(org);
    expect(types).toContain('apikey.issued');
    expect(types).toContain('apikey.revoked');
  });

  it(`refuses a user's key beyond ${MAX_KEYS_PER_USER} active ones with 409, and the admin key with 403`, async () => {
    const org = new Org(server, 'keys');
    const carol = await org.user('carol');
    for (let i = 1; i < MAX_KEYS_PER_USER; i++)
      expect((await org.as(carol, 'POST', '/api/v1/me/api-keys', {})).status).toBe(201);
    const over = await org.as(carol, 'POST', '/api/v1/me/api-keys', {});
    expect(over.status).toBe(409);
    const active = (await org.as(carol, 'GET', '/api/v1/me/api-keys')).json.rows.filter(
      (r: { active: boolean }) => r.active,
    );
    expect(active).toHaveLength(MAX_KEYS_PER_USER);

    const asAdminKey = await org.admin('POST', '/api/v1/me/api-keys', {});
    expect(asAdminKey.status).toBe(403);
  });

  it('refuses bad input with a 400 problem and mints nothing', async () => {
    const org = new Org(server, 'keys');
    const dave = await org.user('dave');
    const before = (await org.as(dave, 'GET', '/api/v1/me/api-keys')).json.rows.length as number;
    for (const body of [
      { expires_at: new Date(Date.now() - 60_000).toISOString() },
      { expires_at: 'tomorrow' },
      { label: 'x'.repeat(201) },
      { label: 42 },
    ]) {
      const res = await org.as(dave, 'POST', '/api/v1/me/api-keys', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(res.json)).toEqual(expect.arrayContaining(PROBLEM_FIELDS));
    }
    const malformedId = await org.as(dave, 'DELETE', '/api/v1/me/api-keys/not-a-key');
    expect(malformedId.status).toBe(404);
    expect((await org.as(dave, 'GET', '/api/v1/me/api-keys')).json.rows).toHaveLength(before);
    expect((await org.as('plur_sk_unknown', 'GET', '/api/v1/me/api-keys')).status).toBe(401);
  });
});
