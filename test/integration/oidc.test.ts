import { SignJWT, base64url, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { NO_LIMITS, Org } from '../helpers/engram.js';
import { Browser, TestIdp, WEB_CLIENT } from '../helpers/oidc-idp.js';
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
  org = Object.assign(new Org(server, 'x'), { id: org.id });
  otherOrg = Object.assign(new Org(server, 'x'), { id: otherOrg.id });
  idp.configure([`${server.url}/auth/callback`]);
  otherIdp.configure([`${server.url}/auth/callback`]);
  platform = await org.group('platform');
});
afterAll(async () => {
  await server?.close();
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
    if (res.status !== 200) console.log(JSON.stringify({ json, visited }, null, 1));
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
