import { SignJWT, base64url, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionTokens } from '../../src/auth/oidc/session-tokens.js';
import { randomHex } from '../../src/ids.js';
import { NO_LIMITS, Org } from '../helpers/engram.js';
import { Browser, TestIdp, WEB_CLIENT, type SigningKey } from '../helpers/oidc-idp.js';
import { ADMIN_KEY, startServer, type TestResponse, type TestServer } from '../helpers/server.js';
import { connectEvents } from '../helpers/ws.js';

/**
 * Single sign-on against a real OpenID Connect provider (oidc-provider on 127.0.0.1, started here): the
 * whole authorization code flow over HTTP (login form, consent, callback), the session on /api/v1 and on
 * the event socket, logout, IdP access tokens (client credentials), every forged or foreign token refused
 * with the problem shape, JWKS rotation, secret rotation, and deactivation cutting off a session and its
 * socket on every instance.
 */
const AUDIENCE = 'https://mnemo.test/api';
const SECRET_OLD = `old-session-secret-${randomHex(16)}`;
const SECRET_NEW = `new-session-secret-${randomHex(16)}`;

let idp: TestIdp;
let otherIdp: TestIdp;
let server: TestServer;
/** A second instance on the same Redis: what one instance changes, the other must honour at once. */
let server2: TestServer;
/** An instance whose secrets rotated: new sessions signed with SECRET_NEW, SECRET_OLD still verifies. */
let rotated: TestServer;
let org: Org;
let otherOrg: Org;
let platform: { id: string; scope: string };

const oidcConfig = (secrets: string[]) => ({
  ...NO_LIMITS,
  oidcIssuers: JSON.stringify([
    idp.webIssuer(org.id, { groups_claim: 'groups' }),
    { issuer: otherIdp.issuer, client_id: 'other-web', audience: AUDIENCE, org: otherOrg.id },
  ]),
  oidcScopes: 'openid profile email',
  oidcJwksCooldownMs: 0,
  sessionSecrets: secrets,
});

beforeAll(async () => {
  idp = await TestIdp.start(AUDIENCE, {
    alice: {
      preferred_username: 'alice',
      email: 'alice@example.com',
      mnemo_role: 'editor',
      groups: ['platform'],
    },
    bob: { preferred_username: 'bob', email: 'bob@example.com' },
  });
  otherIdp = await TestIdp.start(AUDIENCE);
  // Placeholder ids until the server exists: the organisations are named by the fixture below.
  org = { id: `sso-${randomHex(4)}` } as Org;
  otherOrg = { id: `sso-other-${randomHex(4)}` } as Org;
  server = await startServer(oidcConfig([SECRET_OLD]));
  server2 = await startServer(oidcConfig([SECRET_OLD]));
  rotated = await startServer(oidcConfig([SECRET_NEW, SECRET_OLD]));
  org = Object.assign(new Org(server, 'x'), { id: org.id });
  otherOrg = Object.assign(new Org(server, 'x'), { id: otherOrg.id });
  idp.configure([`${server.url}/auth/callback`]);
  otherIdp.configure([`${server.url}/auth/callback`]);
  platform = await org.group('platform');
});
afterAll(async () => {
  await server?.close();
  await server2?.close();
  await rotated?.close();
  await idp?.close();
  await otherIdp?.close();
});

async function signIn(login: string, start = `${server.url}/auth/login`) {
  const browser = new Browser();
  const { res, visited } = await browser.signIn(start, login);
  const text = await res.text();
  return { browser, res, visited, json: text ? JSON.parse(text) : undefined };
}

const me = (token: string): Promise<TestResponse> => server.request('GET', '/api/v1/me', { token });

function expectRefused(res: TestResponse, label: string): void {
  expect({ label, status: res.status, type: res.headers.get('content-type') }).toEqual({
    label,
    status: 401,
    type: 'application/problem+json',
  });
  expect(res.json).toMatchObject({
    type: 'https://mnemo.dev/errors/unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'Invalid or expired token',
  });
}

describe('sign-in with the authorization code flow', () => {
  it('walks login, consent and callback, and answers a session token once', async () => {
    const { res, visited, json, browser } = await signIn('alice');
    expect(res.status).toBe(200);
    // mnemo -> IdP authorize (PKCE S256, state, nonce) -> login form -> consent -> mnemo callback.
    const authorize = new URL(visited.find((u) => u.startsWith(`${idp.issuer}/auth?`)) as string);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(visited.some((u) => u.startsWith(`${server.url}/auth/callback?`))).toBe(true);
    expect(json).toMatchObject({ token_type: 'Bearer', username: 'alice', org_id: org.id });
    expect(json.expires_in).toBeGreaterThan(3500);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('mnemo_session='));
    expect(session).toBe(
      `mnemo_session=${json.token}; Path=/; Max-Age=${json.expires_in}; HttpOnly; SameSite=Lax`,
    );
    expect(cookies.some((c) => c.startsWith('mnemo_login=;') && c.includes('Max-Age=0'))).toBe(true);
    expect(browser.cookies.get('mnemo_login')).toBeUndefined();

    const who = await me(json.token);
    expect(who.status).toBe(200);
    expect(who.json).toMatchObject({
      username: 'alice',
      org_id: org.id,
      role: 'editor',
      credential: 'session',
    });
    // The groups claim made alice a member of platform; the session opens her personal scope.
    expect(who.json.scopes).toEqual(expect.arrayContaining([platform.scope, `user:${org.id}:alice`]));

    // The cookie alone works for a browser.
    const byCookie = await server.request('GET', '/api/v1/me', {
      headers: { cookie: `mnemo_session=${json.token}` },
    });
    expect(byCookie.json).toMatchObject({ username: 'alice', credential: 'session' });
  });
});

/** A token signed with a key of `by` (the IdP's real key unless told), for mnemo's audience unless told. */
async function forge(
  claims: Record<string, unknown> = {},
  by: TestIdp = idp,
  key: SigningKey = by.currentKey,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    sub: `forged-${randomHex(3)}`,
    iss: by.issuer,
    aud: AUDIENCE,
    iat: now,
    exp: now + 300,
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
    .sign(await importJWK(key.privateJwk, 'RS256'));
}

const usersOf = async (o: Org): Promise<string[]> =>
  ((await o.admin('GET', '/api/v1/admin/users')).json.rows as { id: string; username: string }[])
    .map((u) => `${u.id} ${u.username}`)
    .sort();

describe('IdP access tokens on /api/v1', () => {
  it('accepts a client-credentials token of the IdP and provisions its subject as a viewer', async () => {
    const token = await idp.clientCredentialsToken();
    const who = await me(token);
    expect(who.status).toBe(200);
    expect(who.json).toMatchObject({
      username: 'mnemo-bot',
      org_id: org.id,
      role: 'viewer',
      credential: 'idp_token',
    });
    // The same subject is the same user the next time (keyed by issuer + sub).
    const again = await me(await idp.clientCredentialsToken());
    expect(again.json.username).toBe('mnemo-bot');
    expect((await usersOf(org)).filter((u) => u.endsWith(' mnemo-bot'))).toHaveLength(1);
  });

  it('refuses forged, expired, unsigned and foreign tokens with the 401 problem, creating nobody', async () => {
    // The forging works: the same recipe with the right claims is accepted.
    expect((await me(await forge({ sub: 'forger-ok' }))).status).toBe(200);
    const before = await usersOf(org);
    const beforeOther = await usersOf(otherOrg);
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url.encode(
      JSON.stringify({ iss: idp.issuer, aud: AUDIENCE, sub: 'unsigned', exp: now + 300, iat: now }),
    );
    const publicKeyText = new TextEncoder().encode(JSON.stringify(idp.currentKey.publicJwk));
    const hs256 = (secret: Uint8Array) =>
      new SignJWT({ sub: 'hs256' })
        .setProtectedHeader({ alg: 'HS256', kid: idp.currentKey.kid })
        .setIssuer(idp.issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(secret);
    const stranger = await TestIdp.start(AUDIENCE);
    try {
      const cases: [string, string][] = [
        ['wrong audience', await forge({ aud: 'https://someone-else.test/api' })],
        ['the client id as audience (an ID token, not an access token)', await forge({ aud: WEB_CLIENT.id })],
        ['wrong issuer', await forge({ iss: 'https://idp.evil.test' })],
        ['expired beyond the skew', await forge({ exp: now - 120, iat: now - 600 })],
        ['not valid yet', await forge({ nbf: now + 600 })],
        ['alg none', `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`],
        ['HS256 with the public JWK as secret', await hs256(publicKeyText)],
        ['HS256 with a session secret of mnemo', await hs256(new TextEncoder().encode(SECRET_OLD))],
        ["the issuer's name, another org's IdP's key", await forge({ iss: idp.issuer }, otherIdp)],
        ['an unconfigured IdP', await forge({}, stranger)],
        ["an unconfigured IdP claiming the issuer's name", await forge({ iss: idp.issuer }, stranger)],
        ['a garbled signature', `${(await forge()).slice(0, -6)}AAAAAA`],
      ];
      for (const [label, token] of cases) {
        expectRefused(await me(token), label);
        expectRefused(await server.request('GET', '/api/v1/engrams', { token }), `${label} (engrams)`);
      }
    } finally {
      await stranger.close();
    }
    expect(await usersOf(org)).toEqual(before);
    expect(await usersOf(otherOrg)).toEqual(beforeOther);
  });

  it("binds another organisation's IdP to that organisation only", async () => {
    const secret = await org.engram(null, { statement: `Only ${org.id} knows this`, scope: `org:${org.id}` });
    const token = await forge({ sub: 'other-bot' }, otherIdp);
    const who = await server.request('GET', '/api/v1/me', { token, headers: { 'x-mnemo-org': org.id } });
    expect(who.json).toMatchObject({ org_id: otherOrg.id, credential: 'idp_token' });
    expect((await server.request('GET', `/api/v1/engrams/${secret.id}`, { token })).status).toBe(404);
  });

  it('keeps working when the IdP rotates its signing key (the JWKS is refetched for the new kid)', async () => {
    const before = await idp.clientCredentialsToken();
    expect((await me(before)).status).toBe(200);
    const oldKey = idp.currentKey;
    await idp.rotate();
    const after = await idp.clientCredentialsToken();
    const kidOf = (t: string) =>
      JSON.parse(Buffer.from(t.split('.')[0] as string, 'base64url').toString()).kid;
    expect(kidOf(after)).toBe(idp.currentKey.kid);
    expect(kidOf(after)).not.toBe(oldKey.kid);
    expect((await me(after)).status).toBe(200);
    expect((await server2.request('GET', '/api/v1/me', { token: after })).status).toBe(200);
    // The old key is still published, so tokens signed before the rotation stay valid until they expire.
    expect((await me(await forge({ sub: 'signed-before-rotation' }, idp, oldKey))).status).toBe(200);
  });
});

/** Waits for a socket to close (the server closes it; nothing here sleeps). */
async function closedWithin(closed: Promise<{ code: number }>, ms = 10_000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), ms)));
  const code = await Promise.race([closed.then((c) => c.code), timeout]);
  clearTimeout(timer);
  return code;
}

describe('sessions', () => {
  it('open the engram event socket, by bearer token and by cookie', async () => {
    const { json } = await signIn('alice');
    const byBearer = await connectEvents(server, json.token, { path: '/api/v1/events' });
    const byCookie = await connectEvents(server, '', {
      path: '/api/v1/events',
      via: 'query',
      headers: { cookie: `mnemo_session=${json.token}` },
    });
    try {
      await byBearer.subscribe({ types: ['engram.*'] });
      await byCookie.subscribe({ types: ['engram.*'] });
      const made = await org.as(json.token, 'POST', '/api/v1/engrams', {
        statement: 'Sessions can write as editors',
        scope: platform.scope,
      });
      expect(made.status).toBe(201);
      for (const client of [byBearer, byCookie]) {
        const event = await client.waitFor((f) => f.type === 'engram.created' && f.data?.id === made.json.id);
        expect(event.actor).toEqual({ type: 'user', id: json.user_id });
      }
    } finally {
      await byBearer.close();
      await byCookie.close();
    }
  });

  it('end at POST /auth/logout on every instance, with their open sockets', async () => {
    const { json } = await signIn('alice');
    const token = json.token as string;
    expect((await server2.request('GET', '/api/v1/me', { token })).status).toBe(200);
    const socket = await connectEvents(server2, token, { path: '/api/v1/events' });
    try {
      const out = await server.request('POST', '/auth/logout', { token });
      expect(out.status).toBe(200);
      expect(out.json).toEqual({ ended: true });
      expect(out.headers.getSetCookie()).toEqual([
        'mnemo_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax',
      ]);
      expectRefused(await me(token), 'after logout');
      expectRefused(await server2.request('GET', '/api/v1/me', { token }), 'after logout, other instance');
      expect(await closedWithin(socket.closed)).toBe(4001);
      expectRefused(await server.request('POST', '/auth/logout', { token }), 'logout twice');
    } finally {
      await socket.close();
    }
    // Another session of the same user is not ended by it.
    expect((await me((await signIn('alice')).json.token)).status).toBe(200);
  });

  it('verify with the previous secret after a rotation; the new secret is unknown to the old instance', async () => {
    const { json } = await signIn('alice');
    expect((await rotated.request('GET', '/api/v1/me', { token: json.token })).json.credential).toBe(
      'session',
    );
    const fresh = await new SessionTokens([SECRET_NEW], 3600, 30).mint(json.user_id, org.id);
    expect((await rotated.request('GET', '/api/v1/me', { token: fresh.token })).status).toBe(200);
    expectRefused(await me(fresh.token), 'signed with a secret this instance does not have');
    // A session token of one organisation names its organisation: a forged org claim fails the signature.
    const [h, p, sig] = (json.token as string).split('.');
    const claims = JSON.parse(Buffer.from(p as string, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, org: otherOrg.id })).toString('base64url')}.${sig}`;
    expectRefused(await me(tampered), 'tampered org claim');
  });

  it('cut off a deactivated user at once: their session, on every instance, and their open socket', async () => {
    const { json } = await signIn('bob');
    const token = json.token as string;
    expect((await me(token)).json).toMatchObject({ username: 'bob', role: 'viewer', credential: 'session' });
    expect((await server2.request('GET', '/api/v1/me', { token })).status).toBe(200);
    const socket = await connectEvents(server2, token, { path: '/api/v1/events' });
    try {
      const off = await org.admin('PATCH', `/api/v1/admin/users/${json.user_id}`, { active: false });
      expect(off.status).toBe(200);
      expectRefused(await me(token), 'deactivated');
      expectRefused(await server2.request('GET', '/api/v1/me', { token }), 'deactivated, other instance');
      expect(await closedWithin(socket.closed)).toBe(4001);
      // Signing in again does not bring them back: the IdP still knows them, mnemo does not let them in.
      const again = await signIn('bob');
      expect(again.res.status).toBe(401);
      expect(again.json).toMatchObject({ status: 401, type: 'https://mnemo.dev/errors/unauthorized' });
      // Reactivated, the existing session works again (it was never revoked, only its user).
      expect((await org.admin('PATCH', `/api/v1/admin/users/${json.user_id}`, { active: true })).status).toBe(
        200,
      );
      expect((await me(token)).status).toBe(200);
    } finally {
      await socket.close();
    }
  });
});

describe('just-in-time users', () => {
  it('keys users by issuer and subject, never by a matching username or email', async () => {
    const existing = await org.admin('POST', '/api/v1/admin/users', {
      username: 'carol',
      email: 'carol@example.com',
      role: 'admin',
    });
    expect(existing.status).toBe(201);
    idp.accounts.carol = { preferred_username: 'carol', email: 'carol@example.com' };
    const { json } = await signIn('carol');
    expect(json.user_id).not.toBe(existing.json.id);
    expect(json.username).toMatch(/^carol-[0-9a-f]{8}$/);
    expect((await me(json.token)).json).toMatchObject({ role: 'viewer', username: json.username });
    // The same identity signs in to the same user.
    expect((await signIn('carol')).json.user_id).toBe(json.user_id);
  });

  it('follows the role and groups claims at each sign-in', async () => {
    idp.accounts.dave = {
      preferred_username: 'dave',
      mnemo_role: 'editor',
      groups: ['platform', 'unknown-team'],
    };
    const first = await signIn('dave');
    expect((await me(first.json.token)).json.scopes).toContain(platform.scope);
    idp.accounts.dave = { preferred_username: 'dave', mnemo_role: 'viewer', groups: [] };
    const second = await signIn('dave');
    const who = await me(second.json.token);
    expect(who.json.role).toBe('viewer');
    expect(who.json.scopes).not.toContain(platform.scope);
    // The changes applied to the earlier session too (its cached principal was dropped).
    expect((await me(first.json.token)).json).toMatchObject({ role: 'viewer', scopes: who.json.scopes });
    expect((await usersOf(org)).filter((u) => u.endsWith(' dave'))).toHaveLength(1);
  });
});

describe('GET /auth/sso', () => {
  it('says whether single sign-on is configured, without contacting the IdP or setting a cookie', async () => {
    const before = idp.requests;
    const on = await server.request('GET', '/auth/sso');
    expect(on.status).toBe(200);
    expect(on.json).toEqual({ enabled: true });
    expect(on.headers.get('set-cookie')).toBeNull();
    expect(on.headers.get('cache-control')).toBe('no-store');
    expect(idp.requests).toBe(before);

    const plain = await startServer();
    try {
      expect((await plain.request('GET', '/auth/sso')).json).toEqual({ enabled: false });
      const login = await plain.request('GET', '/auth/login');
      expect(login.status).toBe(404);
      expect(login.json.detail).toBe('Single sign-on is not configured');
    } finally {
      await plain.close();
    }
  });
});

describe('bad input to /auth/*', () => {
  it('answers problems and starts nothing', async () => {
    const before = await usersOf(org);
    const offsite = await server.request('GET', '/auth/login?redirect=//evil.example/x');
    expect(offsite.status).toBe(400);
    expect(offsite.headers.get('content-type')).toBe('application/problem+json');
    expect(offsite.headers.get('set-cookie')).toBeNull();
    for (const bad of ['/\\evil.example', 'https://evil.example', 'console']) {
      expect((await server.request('GET', `/auth/login?redirect=${encodeURIComponent(bad)}`)).status).toBe(
        400,
      );
    }
    expect((await server.request('GET', '/auth/login?org=nobody-here')).status).toBe(404);
    expect((await server.request('GET', '/auth/login?org=bad%20org')).status).toBe(400);

    const noState = await server.request('GET', '/auth/callback?code=abc&state=def');
    expect(noState.status).toBe(400);
    expect(noState.json.detail).toMatch(/No sign-in is in progress/);

    // A sign-in started in this browser, then a callback with another state (a forged or replayed link).
    const browser = new Browser();
    const started = await browser.get(`${server.url}/auth/login`);
    expect(started.status).toBe(302);
    expect(started.headers.get('location')).toMatch(new RegExp(`^${idp.issuer}/auth\\?`));
    expect(started.headers.getSetCookie()[0]).toMatch(
      /^mnemo_login=[\w-]+\.[\w-]+\.[\w-]+; Path=\/auth\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/,
    );
    const state = new URL(started.headers.get('location') as string).searchParams.get('state') as string;
    const forScript = await server.request('GET', '/auth/login', { headers: { accept: 'application/json' } });
    expect(forScript.status).toBe(200);
    expect(forScript.json.location).toMatch(new RegExp(`^${idp.issuer}/auth\\?`));
    expect(forScript.headers.get('location')).toBeNull();
    const wrong = await browser.get(`${server.url}/auth/callback?code=abc&state=not-the-state`);
    expect(wrong.status).toBe(400);
    const denied = await browser.get(`${server.url}/auth/callback?error=access_denied&state=${state}`);
    expect(denied.status).toBe(401);
    const badCode = await browser.get(`${server.url}/auth/callback?code=made-up&state=${state}`);
    expect(badCode.status).toBe(401);
    expect(((await badCode.json()) as { detail: string }).detail).toMatch(/refused the code/);
    const mixUp = await browser.get(
      `${server.url}/auth/callback?code=x&state=${state}&iss=${otherIdp.issuer}`,
    );
    expect(mixUp.status).toBe(400);
    // A state cookie signed with another secret is no sign-in at all.
    const forgedCookie = await new SessionTokens([SECRET_NEW], 3600, 30).signPayload(
      { st: 's', n: 'n', v: 'v', idp: idp.issuer, ru: 'http://x/auth/callback', r: null },
      'mnemo-login-state',
      600,
    );
    const forged = await server.request('GET', '/auth/callback?code=x&state=s', {
      headers: { cookie: `mnemo_login=${forgedCookie}` },
    });
    expect(forged.status).toBe(400);

    // Logout takes a session only.
    expectRefused(
      await server.request('POST', '/auth/logout', { token: `plur_sk_${randomHex(24)}` }),
      'unknown',
    );
    const anon = await server.request('POST', '/auth/logout');
    expect(anon.status).toBe(401);
    const byAdmin = await server.request('POST', '/auth/logout', {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': org.id },
    });
    expect(byAdmin.status).toBe(422);
    expect(await usersOf(org)).toEqual(before);
  });

  it('redirects a browser to a path of this server after signing in, with the session cookie', async () => {
    const target = '/console/?tab=1';
    const { visited, browser } = await signIn(
      'alice',
      `${server.url}/auth/login?redirect=${encodeURIComponent(target)}`,
    );
    // The callback answered 302 to the path (which this test server does not serve), setting the cookie.
    expect(visited.at(-2)).toMatch(new RegExp(`^${server.url}/auth/callback\\?`));
    expect(visited.at(-1)).toBe(`${server.url}${target}`);
    const token = browser.cookies.get('mnemo_session') as string;
    expect(
      (await server.request('GET', '/api/v1/me', { headers: { cookie: `mnemo_session=${token}` } })).status,
    ).toBe(200);
  });
});
