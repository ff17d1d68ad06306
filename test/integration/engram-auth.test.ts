import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import {
  ADMIN_KEY,
  callRoute,
  createLayerKey,
  type RouteProbe,
  type TestResponse,
  type TestServer,
} from '../helpers/server.js';
import { REFUSED, expectChallenge, type Refusal } from '../helpers/refusals.js';

/**
 * Authentication of every engram-API route, enumerated from the route table so a new route is covered
 * without touching this file. Contract (plur seed, "Authentication" and "Errors"): every /api/v1 endpoint
 * needs `Authorization: Bearer <key>`; a missing, unknown, revoked or foreign credential is a 401 problem
 * document, and nothing the request asked for happens.
 */
let server: TestServer;
let org: Org;
let editor: TestUser;
let revoked: TestUser;
let ids: Record<string, string>;

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server, 'auth');
  editor = await org.user('editor');
  revoked = await org.user('revoked');
  const group = await org.group('platform');
  const engram = await org.engram(editor, { statement: 'Deploys go through the release train' });
  const episode = await org.as(editor, 'POST', '/api/v1/episodes', { summary: 'Shipped the release' });
  const session = await org.as(editor, 'POST', '/api/v1/sessions', { task: 'release' });
  const keys = await org.admin('GET', '/api/v1/admin/api-keys');
  const revokedKeyId = keys.json.rows.find((k: { user_id: string }) => k.user_id === revoked.id).id;
  // Used once first, so this instance has it cached when it is revoked.
  expect((await org.as(revoked, 'GET', '/api/v1/me')).status).toBe(200);
  expect((await org.admin('DELETE', `/api/v1/admin/api-keys/${revokedKeyId}`)).status).toBe(200);
  const editorKeyId = keys.json.rows.find((k: { user_id: string }) => k.user_id === editor.id).id;
  ids = {
    engrams: engram.id,
    episodes: episode.json.id,
    sessions: session.json.session_id,
    users: editor.id,
    groups: group.id,
    'api-keys': editorKeyId,
  };
});
afterAll(async () => {
  await server.close();
});

/** A concrete URL for a route pattern, naming this organisation's real things so a leak would show. */
function urlOf(path: string): string {
  return path
    .replace(/\/([a-z-]+)\/:id/g, (_m, collection: string) => `/${collection}/${ids[collection] ?? 'x1'}`)
    .replace(/:user_id/g, editor.id);
}

/** A body every route would act on from a valid credential (unknown fields are ignored or refused later). */
const anyBody = () => ({
  statement: 'An engram that must not be written',
  query: 'release',
  task: 'release',
  summary: 'An episode that must not be written',
  username: `intruder-${randomHex(3)}`,
  name: 'intruders',
  user_id: editor.id,
  role: 'admin',
  signal: 'negative',
  pinned: true,
  learnings: ['nothing'],
});

const call = (route: RouteProbe, headers: Record<string, string>): Promise<TestResponse> =>
  callRoute(server, route, urlOf(route.path), headers, anyBody());

function expectUnauthorized(res: TestResponse, url: string, label: string, refusal: Refusal): void {
  expect({ label, status: res.status, body: res.json }).toEqual({
    label,
    status: 401,
    body: {
      type: 'https://mnemo.dev/errors/unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail: refusal.detail,
      instance: url,
    },
  });
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expectChallenge(res.headers, refusal, label);
}

/** What the organisation holds: changes to any of it would mean a refused request acted. */
async function snapshot() {
  const [engrams, engram, episodes, users, groups, keys] = await Promise.all([
    org.admin('GET', '/api/v1/engrams?limit=200'),
    org.admin('GET', `/api/v1/engrams/${ids.engrams}`),
    org.admin('GET', '/api/v1/episodes?limit=200'),
    org.admin('GET', '/api/v1/admin/users'),
    org.admin('GET', '/api/v1/admin/groups'),
    org.admin('GET', '/api/v1/admin/api-keys'),
  ]);
  return {
    engrams: engrams.json,
    engram: engram.json,
    episodes: episodes.json,
    users: users.json,
    groups: groups.json,
    keys: keys.json,
  };
}

describe('authentication of every engram-API route', () => {
  it('answers 401 problem documents without a valid credential, and changes nothing', async () => {
    const layerKey = await createLayerKey(server, org.id);
    const before = await snapshot();
    const credentials: [string, Record<string, string>, Refusal][] = [
      ['no credential', {}, REFUSED.missing],
      ['a valid key without the Bearer scheme', { authorization: editor.key }, REFUSED.notBearer],
      ['a valid key under the Basic scheme', { authorization: `Basic ${editor.key}` }, REFUSED.notBearer],
      ['Bearer without a token', { authorization: 'Bearer' }, REFUSED.notBearer],
      ['Bearer with a garbled token', { authorization: 'Bearer not-a-key' }, REFUSED.notAKey('engram')],
      [
        'a well-formed unknown key',
        { authorization: `Bearer plur_sk_${randomHex(24)}` },
        REFUSED.engramUnknown,
      ],
      ['a revoked key', { authorization: `Bearer ${revoked.key}` }, REFUSED.engramUnknown],
      ['a layer-API key', { authorization: `Bearer ${layerKey}` }, REFUSED.workspaceKeyOn('engram')],
      [
        'a near miss of the admin key',
        { authorization: `Bearer ${ADMIN_KEY}x`, 'x-mnemo-org': org.id },
        REFUSED.notAKey('engram'),
      ],
    ];
    const face = server.routes.filter((r) => r.path.startsWith('/api/v1/'));
    // Only the API description is public; everything else needs an engram-API credential.
    const open = face.filter((r) => r.auth === 'none').map((r) => r.path);
    expect(open.every((path) => /^\/api\/v1\/openapi\.(json|yaml)$/.test(path))).toBe(true);
    const routes = face.filter((r) => r.auth !== 'none');
    expect(routes.length).toBeGreaterThanOrEqual(25);
    for (const route of routes) {
      expect([route.path, route.auth]).toEqual([route.path, 'engram']);
      const url = urlOf(route.path);
      for (const [name, headers, refusal] of credentials) {
        const label = `${route.method} ${route.path} with ${name}`;
        expectUnauthorized(await call(route, headers), url, label, refusal);
      }
    }
    expect(await snapshot()).toEqual(before);
    expect((await org.as(editor, 'GET', '/api/v1/me')).status).toBe(200);
  });
});
