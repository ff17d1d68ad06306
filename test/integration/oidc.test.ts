import { SignJWT, base64url, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    {
      issuer: idp.issuer,
      client_id: WEB_CLIENT.id,
      client_secret: WEB_CLIENT.secret,
      audience: AUDIENCE,
      org: org.id,
      groups_claim: 'groups',
      role_claim: 'mnemo_role',
    },
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
