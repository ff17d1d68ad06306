import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org } from '../helpers/engram.js';
import { spawnService } from '../helpers/process.js';
import { REFUSED } from '../helpers/refusals.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { refusedUpgrade, eventsUrl } from '../helpers/ws.js';
import { randomHex } from '../../src/ids.js';

/**
 * Failed authentications are limited per client address, in Redis, so every instance shares the budget:
 * a burst, then a slow refill; 429 in the face's dialect with Retry-After, on HTTP and event-stream
 * upgrades alike. Requests with a good credential do not spend the budget.
 */
const BURST = 5;
let a: TestServer;
let b: TestServer;
let layerKey: string;
let userKey: string;

beforeAll(async () => {
  // Effectively no refill during the test: the budget only shrinks.
  const limited = { authFailureBurst: BURST, authFailureRefillMs: 3_600_000 };
  [a, b] = await Promise.all([startServer(limited), startServer(limited)]);
  layerKey = await createLayerKey(a, uniqueWorkspace('guess'));
  userKey = (await new Org(a, 'guess').user('guessed')).key;
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

const guess = (server: TestServer, path = '/v1/me') =>
  server.request('GET', path, { token: `plm_live_${randomHex(24)}` });

describe('failed authentications per client address', () => {
  it('answers 401 for a burst, counting no success, then 429 everywhere for that address', async () => {
    for (let i = 0; i < BURST - 1; i++) expect((await guess(a)).status).toBe(401);
    // Good credentials in between spend nothing.
    for (let i = 0; i < 3 * BURST; i++) {
      expect((await a.request('GET', '/v1/me', { token: layerKey })).status).toBe(200);
    }
    const last = await guess(a);
    expect(last.status).toBe(401);
    expect(last.json).toEqual({ detail: REFUSED.unknown.detail, status: 401 });

    const limited = await guess(a);
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({
      detail: expect.stringMatching(/^Too many failed authentications from this address; retry in \d+ s$/),
      status: 429,
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // The other instance shares the budget (Redis), on the other face too.
    const engram = await b.request('GET', '/api/v1/me', { token: `plur_sk_${randomHex(24)}` });
    expect(engram.status).toBe(429);
    expect(engram.headers.get('content-type')).toBe('application/problem+json');
    expect(engram.json.type).toMatch(/rate-limited$/);
    expect(Number(engram.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses event-stream upgrades from a blocked address with 429', async () => {
    for (const server of [a, b]) {
      const refused = await refusedUpgrade(eventsUrl(server), {
        headers: { authorization: `Bearer plm_live_${randomHex(24)}` },
      });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    }
  });

  it('while blocked, refuses without evaluating the credential, so a right guess looks like a wrong one', async () => {
    const right = await a.request('GET', '/v1/me', { token: layerKey });
    expect(right.status).toBe(429);
    const rightEngram = await b.request('GET', '/api/v1/me', { token: userKey });
    expect(rightEngram.status).toBe(429);
  });
});

describe('admin key strength in production', () => {
  it('refuses to start with an admin key shorter than 32 characters', async () => {
    const proc = spawnService({
      MNEMO_ENV: 'production',
      MNEMO_ADMIN_KEY: 'short-admin-key-123',
      MNEMO_PORT: '0',
    });
    try {
      expect(await proc.exited).toBe(2);
      expect(proc.output()).toContain(
        'MNEMO_ADMIN_KEY: in production the admin key must be at least 32 characters (got 19)',
      );
    } finally {
      if (proc.child.exitCode === null && proc.child.pid !== undefined)
        process.kill(proc.child.pid, 'SIGKILL');
    }
  });
});
