import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';
import { connectEvents, eventsUrl, refusedUpgrade, type TokenTransport } from '../helpers/ws.js';
import { layerTenant } from '../../src/tenant.js';
import { REFUSED, type Refusal } from '../helpers/refusals.js';

/** Authentication at upgrade, the three token transports, revocation, and the per-credential socket cap. */
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  // Two instances on one Redis; `b` allows only three sockets per credential.
  a = await startServer();
  b = await startServer({ wsMaxSocketsPerCredential: 3 });
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

async function keyIdOf(server: TestServer, workspace: string): Promise<string> {
  const list = await server.request('GET', `/admin/keys/${workspace}`, { token: ADMIN_KEY });
  return list.json[0].key_id as string;
}

describe('upgrade authentication', () => {
  it('refuses a missing or invalid credential with 401 in the layer dialect', async () => {
    const workspace = uniqueWorkspace('auth');
    const revokedKey = await createLayerKey(a, workspace);
    await a.request('DELETE', `/admin/keys/${await keyIdOf(a, workspace)}`, { token: ADMIN_KEY });
    const url = eventsUrl(a);
    type Attempt = { headers?: Record<string, string>; protocols?: string[]; query?: string };
    const attempts: [Attempt, Refusal][] = [
      [{}, REFUSED.missing],
      [{ headers: { authorization: 'Bearer garbage' } }, REFUSED.notAKey('layer')],
      [{ headers: { authorization: 'Bearer plm_live_' + 'a'.repeat(48) } }, REFUSED.unknown],
      [{ headers: { authorization: `Bearer ${ADMIN_KEY}` } }, REFUSED.adminKeyOn('layer')],
      [{ headers: { authorization: `Basic ${revokedKey}` } }, REFUSED.notBearer],
      [{ headers: { authorization: `Bearer ${revokedKey}` } }, REFUSED.unknown],
      [{ protocols: ['bearer', 'plm_test_' + 'b'.repeat(48)] }, REFUSED.unknown],
      [{ protocols: ['bearer'] }, REFUSED.missing],
      [{ query: '?access_token=' }, REFUSED.missing],
      [{ query: `?access_token=${revokedKey}` }, REFUSED.unknown],
    ];
    for (const [attempt, refusal] of attempts) {
      const refused = await refusedUpgrade(url + (attempt.query ?? ''), attempt);
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body)).toEqual({ detail: refusal.detail, status: 401 });
      expect(refused.headers['www-authenticate']).toBe(`Bearer realm="mnemo", error="${refusal.error}"`);
      expect(refused.headers['content-type']).toBe('application/json');
      expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number(refused.headers['x-latency-ms'])).toBeGreaterThanOrEqual(0);
    }
    // A client's own request id is echoed on a refusal too, as on every HTTP answer.
    const traced = await refusedUpgrade(url, { headers: { 'x-request-id': 'trace-42' } });
    expect(traced.headers['x-request-id']).toBe('trace-42');
  });

  for (const via of ['header', 'protocol', 'query'] as TokenTransport[]) {
    it(`accepts the key via ${via}`, async () => {
      const workspace = uniqueWorkspace(via);
      const key = await createLayerKey(a, workspace);
      // Twice: once verified against Redis, once from the instance's credential cache.
      for (let i = 0; i < 2; i++) {
        const client = await connectEvents(a, key, { via });
        expect(client.ws.protocol).toBe(via === 'protocol' ? 'bearer' : '');
        await client.subscribe({});
        const [id] = await a.services.events.append(layerTenant(workspace), { type: 'api_key', id: 'k' }, [
          { type: 'memory.fact.added', data: { id: 'f', content: via } },
        ]);
        expect((await client.waitFor((f) => f.id === id)).workspace).toBe(workspace);
        await client.close();
      }
    });
  }
});

describe('revocation', () => {
  it('closes sockets of a revoked key on every instance with 4001, and only those', async () => {
    const workspace = uniqueWorkspace('revoke');
    const doomed = await createLayerKey(a, workspace, { label: 'doomed' });
    const survivor = await createLayerKey(a, workspace, { label: 'survivor' });
    const onA = await connectEvents(a, doomed);
    const onB = await connectEvents(b, doomed, { via: 'query' });
    const other = await connectEvents(b, survivor);
    for (const c of [onA, onB, other]) await c.subscribe({});
    const list = await a.request('GET', `/admin/keys/${workspace}`, { token: ADMIN_KEY });
    const doomedId = list.json.find((k: { label: string }) => k.label === 'doomed').key_id;

    expect((await a.request('DELETE', `/admin/keys/${doomedId}`, { token: ADMIN_KEY })).status).toBe(200);
    for (const c of [onA, onB]) expect(await c.closed).toEqual({ code: 4001, reason: 'credential revoked' });

    const [id] = await b.services.events.append(layerTenant(workspace), { type: 'api_key', id: 'k' }, [
      { type: 'memory.fact.added', data: { id: 'x' } },
    ]);
    await other.waitFor((f) => f.id === id);
    expect(
      (await refusedUpgrade(eventsUrl(b), { headers: { authorization: `Bearer ${doomed}` } })).status,
    ).toBe(401);
    await other.close();
  });
});

describe('revocation during the upgrade', () => {
  it('closes a socket whose key was revoked while its upgrade was looking the key up', async () => {
    const workspace = uniqueWorkspace('race');
    const key = await createLayerKey(b, workspace);
    const keyId = await keyIdOf(b, workspace);
    const layerKeys = a.services.layerKeys;
    const real = layerKeys.authenticate.bind(layerKeys);
    let raced = false;
    // The first lookup reads the key while it is still active; the revocation then reaches instance `a`
    // before the socket exists, so there is no socket yet for the invalidation to close.
    layerKeys.authenticate = async (token) => {
      const verified = await real(token);
      if (!raced) {
        raced = true;
        expect((await b.request('DELETE', `/admin/keys/${keyId}`, { token: ADMIN_KEY })).status).toBe(200);
        await expect.poll(() => layerKeys.authenticateCached(token)).toBeUndefined();
      }
      return verified;
    };
    try {
      const socket = await connectEvents(a, key);
      expect(await socket.closed).toEqual({ code: 4001, reason: 'credential revoked' });
      expect(raced).toBe(true);
    } finally {
      layerKeys.authenticate = real;
    }
  });
});

describe('sockets per credential', () => {
  it('refuses more than the configured number with 429 and frees a slot when one closes', async () => {
    const workspace = uniqueWorkspace('cap');
    const key = await createLayerKey(b, workspace);
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await connectEvents(b, key));
    const refused = await refusedUpgrade(eventsUrl(b), { headers: { authorization: `Bearer ${key}` } });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toEqual({
      detail: 'This credential already holds 3 event sockets',
      status: 429,
    });
    // Another key is counted on its own.
    const otherKey = await createLayerKey(b, workspace);
    const other = await connectEvents(b, otherKey);
    await open[0]!.close();
    await expect.poll(() => b.eventServer.socketCount).toBe(3);
    const again = await connectEvents(b, key);
    await Promise.all([...open.slice(1), other, again].map((c) => c.close()));
  });
});
