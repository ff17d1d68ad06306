import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer } from '../helpers/engram.js';
import { ADMIN_KEY, type TestServer } from '../helpers/server.js';
import { connectEvents, eventsUrl, refusedUpgrade, type EventClient } from '../helpers/ws.js';

/** /api/v1/events: engram-API credentials, scope-filtered, revocable, permissions followed live. */
let server: TestServer;
const open: EventClient[] = [];

beforeAll(async () => {
  server = await startEngramServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.close();
});

async function connect(token: string, headers: Record<string, string> = {}): Promise<EventClient> {
  const client = await connectEvents(server, token, { path: '/api/v1/events', headers });
  open.push(client);
  await client.subscribe({ types: ['engram.*', 'user.*', 'group.*'] });
  return client;
}

const statement = (text: string, scope: string) => ({
  statement: text,
  type: 'procedural',
  scope,
  domain: 'software.deployment',
  tags: ['deploy'],
});

describe('engram event stream', () => {
  it('refuses a bad credential at upgrade with a problem document', async () => {
    const refused = await refusedUpgrade(eventsUrl(server, '/api/v1/events'), {
      headers: { authorization: 'Bearer plur_sk_not-a-real-key' },
    });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({
      status: 401,
      detail: 'Not an API key: /api/v1 takes a user key (plur_sk_...) or the admin key',
    });
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="mnemo", error="invalid_token"');
  });

  it('delivers engram events of readable scopes only; admins see identity events too', async () => {
    const org = new Org(server, 'wsorg');
    const platform = await org.group('platform');
    const secret = await org.group('secret-team');
    const alice = await org.user('alice', 'editor');
    await org.member(platform.id, alice, 'editor');
    const aliceSocket = await connect(alice.key);
    const adminSocket = await connect(ADMIN_KEY, { 'x-mnemo-org': org.id });

    await org.engram(null, statement('Hidden rule of the secret team.', secret.scope));
    const visible = await org.engram(alice, statement('Deploys must run migrations first.', platform.scope));

    const received = await aliceSocket.waitFor((f) => f.type === 'engram.created');
    expect(received).toMatchObject({ workspace: org.id, data: { id: visible.id, scope: platform.scope } });
    await adminSocket.waitFor((f) => f.type === 'engram.created' && f.data.id === visible.id);
    expect(adminSocket.events.filter((e) => e.type === 'engram.created')).toHaveLength(2);
    expect(aliceSocket.events.map((e) => e.data.scope)).not.toContain(secret.scope);

    await org.user('bob', 'viewer');
    await adminSocket.waitFor((f) => f.type === 'user.created' && f.data.username === 'bob');
    expect(aliceSocket.events.some((e) => e.type === 'user.created')).toBe(false);
  });

  it('follows membership changes on open sockets and closes on key revocation and deactivation', async () => {
    const org = new Org(server, 'wsrev');
    const team = await org.group('team');
    const carol = await org.user('carol', 'editor');
    await org.member(team.id, carol, 'editor');
    const socket = await connect(carol.key);

    await org.engram(null, statement('First team rule.', team.scope));
    await socket.waitFor((f) => f.type === 'engram.created');

    // Removed from the group: the socket stays open but no longer sees the group's engrams.
    expect(
      (await org.admin('DELETE', `/api/v1/admin/groups/${team.id}/members/${carol.id}`)).status,
    ).toBeLessThan(300);
    const later = await org.engram(null, statement('Second team rule.', team.scope));
    const own = await org.engram(carol, statement('A personal note about deploys.', `user:${org.id}:carol`));
    await socket.waitFor((f) => f.type === 'engram.created' && f.data.id === own.id);
    expect(socket.events.some((e) => e.data?.id === later.id)).toBe(false);

    // Deactivated: closed at once with 4001.
    await org.admin('PATCH', `/api/v1/admin/users/${carol.id}`, { active: false });
    expect((await socket.closed).code).toBe(4001);

    // A revoked key closes its socket too.
    const dave = await org.user('dave', 'viewer');
    const daveSocket = await connect(dave.key);
    const keys = await org.admin('GET', '/api/v1/admin/api-keys');
    const daveKey = keys.json.rows.find((k: { user_id: string }) => k.user_id === dave.id);
    await org.admin('DELETE', `/api/v1/admin/api-keys/${daveKey.id}`);
    expect((await daveSocket.closed).code).toBe(4001);
  });
});

describe('an expiring key', () => {
  it('has its open socket closed with 4001 when it expires', async () => {
    const org = new Org(server, 'expiry');
    const alice = await org.user('alice');
    // Far enough ahead for the upgrade to happen first on a busy machine; the test waits for the close.
    const expiresAt = new Date(Date.now() + 3000).toISOString();
    const minted = await org.as(alice, 'POST', '/api/v1/me/api-keys', { expires_at: expiresAt });
    expect(minted.status).toBe(201);
    const socket = await connect(minted.json.key);
    const { code, reason } = await socket.closed;
    expect(code).toBe(4001);
    expect(reason).toBe('credential expired');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    // The user's other key keeps its socket.
    const other = await connect(alice.key);
    await org.engram(alice, statement('Still streaming after the other key expired.', 'global'));
    await other.waitFor((f) => f.type === 'engram.created');
  });
});
