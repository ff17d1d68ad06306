import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import {
  ADMIN_KEY,
  callRoute,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type RouteProbe,
  type TestResponse,
  type TestServer,
} from '../helpers/server.js';
import { REFUSED, expectChallenge, type Refusal } from '../helpers/refusals.js';

/**
 * Authentication of every layer-API route, enumerated from the route table so a new route is covered
 * without touching this file. Contract (plyra seed, "Authentication"): every /v1/ endpoint needs
 * `Authorization: Bearer <key>`; a missing or invalid key is 401 {"detail": ..., "status": 401}, the detail
 * saying what was wrong (never whether a key exists) and `WWW-Authenticate: Bearer` naming the RFC 6750 error.
 * Admin endpoints take the admin key only; the reference server answers any other credential with 401.
 */
let server: TestServer;
let workspace: string;
let liveKey: string;
let liveKeyId: string;
let revokedKey: string;
let episodeId: string;

beforeAll(async () => {
  server = await startServer();
  workspace = uniqueWorkspace('auth');
  liveKey = await createLayerKey(server, workspace);
  revokedKey = await createLayerKey(server, workspace);
  liveKeyId = (await server.request('GET', '/v1/me', { token: liveKey })).json.key_id;
  // Used once before revocation, so this instance has it cached when it is revoked.
  const revokedId = (await server.request('GET', '/v1/me', { token: revokedKey })).json.key_id;
  const revoked = await server.request('DELETE', `/admin/keys/${revokedId}`, { token: ADMIN_KEY });
  expect(revoked.status).toBe(200);
  const remembered = await server.request('POST', '/v1/remember', {
    token: liveKey,
    body: { content: 'I work at Initech', user_id: 'u1', agent_id: 'a1' },
  });
  expect(remembered.status).toBe(200);
  episodeId = remembered.json.episode_id;
});
afterAll(async () => {
  await server.close();
});

/**
 * A concrete URL for a route pattern, naming real things where they exist, so that a route that failed
 * to authenticate would act on data this test checks afterwards.
 */
function urlOf(path: string): string {
  const values: Record<string, string> = {
    id: episodeId,
    user_id: 'u1',
    workspace_id: workspace,
    key_id: liveKeyId,
  };
  return path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => encodeURIComponent(values[name] ?? 'x1'));
}

/** A body every route would accept from a valid credential (unknown fields are ignored). */
const anyBody = () => ({ content: 'probe', query: 'probe', user_id: 'u1', workspace_id: workspace });

const call = (route: RouteProbe, headers: Record<string, string>): Promise<TestResponse> =>
  callRoute(server, route, urlOf(route.path), headers, anyBody());

function expectUnauthorized(res: TestResponse, label: string, refusal: Refusal): void {
  expect({ label, status: res.status, body: res.json }).toEqual({
    label,
    status: 401,
    body: { detail: refusal.detail, status: 401 },
  });
  expect(res.headers.get('content-type')).toBe('application/json');
  expectChallenge(res.headers, refusal, label);
}

const unknownKey = (env: 'live' | 'test') => `plm_${env}_${randomHex(24)}`;

async function snapshot() {
  const stats = await server.request('GET', '/v1/stats', { token: liveKey });
  const keys = await server.request('GET', `/admin/keys/${workspace}`, { token: ADMIN_KEY });
  const memory = await server.request('GET', `/v1/memory/${episodeId}`, { token: liveKey });
  return {
    counts: [stats.json.working, stats.json.episodic, stats.json.semantic],
    keys: keys.json.map((k: { key_id: string; is_active: boolean }) => [k.key_id, k.is_active]),
    memory: memory.status,
  };
}

describe('authentication of every route', () => {
  it('enumerates the layer and admin routes from the route table', () => {
    const routes = server.routes.map((r) => `${r.method} ${r.path}`);
    for (const known of ['POST /v1/remember', 'POST /v1/recall', 'POST /v1/context', 'GET /v1/stats'])
      expect(routes).toContain(known);
    for (const known of ['DELETE /v1/memory', 'DELETE /v1/users/:user_id', 'POST /admin/keys'])
      expect(routes).toContain(known);
    // The contract: every /v1/ endpoint requires a layer key, every /admin/ endpoint the admin key.
    for (const route of server.routes) {
      if (route.path.startsWith('/v1/')) expect([route.path, route.auth]).toEqual([route.path, 'layer']);
      if (route.path.startsWith('/admin/')) expect([route.path, route.auth]).toEqual([route.path, 'admin']);
    }
  });

  it('answers 401 {detail, status} on every /v1/ route without a valid key, and changes nothing', async () => {
    const before = await snapshot();
    const credentials: [string, Record<string, string>, Refusal][] = [
      ['no credential', {}, REFUSED.missing],
      [
        'a valid key in X-API-Key (the contract names Authorization only)',
        { 'x-api-key': liveKey },
        REFUSED.missing,
      ],
      ['a valid key without the Bearer scheme', { authorization: liveKey }, REFUSED.notBearer],
      ['a valid key under the Basic scheme', { authorization: `Basic ${liveKey}` }, REFUSED.notBearer],
      ['Bearer without a token', { authorization: 'Bearer' }, REFUSED.notBearer],
      ['Bearer with a garbled token', { authorization: 'Bearer not-a-key' }, REFUSED.notAKey('layer')],
      ['a well-formed unknown live key', { authorization: `Bearer ${unknownKey('live')}` }, REFUSED.unknown],
      ['a well-formed unknown test key', { authorization: `Bearer ${unknownKey('test')}` }, REFUSED.unknown],
      ['a revoked key', { authorization: `Bearer ${revokedKey}` }, REFUSED.unknown],
      ['the admin key', { authorization: `Bearer ${ADMIN_KEY}` }, REFUSED.adminKeyOn('layer')],
      [
        'an engram-API user key',
        { authorization: `Bearer plur_sk_${randomHex(24)}` },
        REFUSED.userKeyOn('layer'),
      ],
    ];
    const routes = server.routes.filter((r) => r.path.startsWith('/v1/'));
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const route of routes) {
      for (const [name, headers, refusal] of credentials) {
        expectUnauthorized(await call(route, headers), `${route.method} ${route.path} with ${name}`, refusal);
      }
    }
    expect(await snapshot()).toEqual(before);
    expect((await server.request('GET', '/v1/me', { token: liveKey })).status).toBe(200);
  });

  it('answers 401 on every admin route to a workspace key or any other non-admin credential', async () => {
    const before = await snapshot();
    const credentials: [string, Record<string, string>, Refusal][] = [
      ['no credential', {}, REFUSED.missing],
      ["a workspace's live key", { authorization: `Bearer ${liveKey}` }, REFUSED.workspaceKeyOn('admin')],
      ['a revoked workspace key', { authorization: `Bearer ${revokedKey}` }, REFUSED.workspaceKeyOn('admin')],
      [
        'a well-formed unknown key',
        { authorization: `Bearer ${unknownKey('live')}` },
        REFUSED.workspaceKeyOn('admin'),
      ],
      ['a near miss of the admin key', { authorization: `Bearer ${ADMIN_KEY}x` }, REFUSED.notAdminKey],
      ['the admin key in X-API-Key', { 'x-api-key': ADMIN_KEY }, REFUSED.missing],
      ['the admin key without the Bearer scheme', { authorization: ADMIN_KEY }, REFUSED.notBearer],
    ];
    const routes = server.routes.filter((r) => r.auth === 'admin');
    expect(routes.length).toBeGreaterThanOrEqual(3);
    for (const route of routes) {
      for (const [name, headers, refusal] of credentials) {
        expectUnauthorized(await call(route, headers), `${route.method} ${route.path} with ${name}`, refusal);
      }
    }
    // Nothing was created, listed into effect or revoked: the workspace's keys and memories are as they were.
    expect(await snapshot()).toEqual(before);
  });
});
