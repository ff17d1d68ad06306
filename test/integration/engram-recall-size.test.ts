import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/**
 * The PLUR client drops any recall answer over 128 KiB (and three in a row open its 5-minute circuit
 * breaker; plur.md §1.3). A `limit: 100` answer of realistic engrams must fit without losing a field the
 * client reads: read the client's way (remote-recall.ts: a result with `statement` at the top is the
 * engram; a {id, scope, status, data} row is data with the columns over it), each result is the engram
 * GET /engrams/{id} returns, null fields and the row timestamps left out and `retrieval_strength` only
 * inside `activation`. Engrams too long for 100 to fit give the best-ranked ones that do, flagged `truncated`.
 */
const CLIENT_RESPONSE_CAP = 128 * 1024;
const COUNT = 100;
const QUERY = 'schema migration dry run rollback';

let server: TestServer;
let org: Org;
let alice: TestUser;

/** A statement of `length` characters that the recall query matches. */
function statement(i: number, length: number): string {
  const head = `Rule ${i} for the payments platform: before a release, run the schema migration dry run, `;
  const filler =
    'check the rollback plan with the on-call engineer, confirm the feature flags default to off, ' +
    'watch error budgets and queue depth for thirty minutes, and write down what changed and why. ';
  return (head + filler.repeat(Math.ceil(length / filler.length))).slice(0, length);
}

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server);
  alice = await org.user('alice', 'admin');
  const team = await org.group('payments');
  await org.member(team.id, alice, 'admin');
  for (let i = 0; i < COUNT; i++) {
    await org.engram(alice, {
      statement: statement(i, 600),
      type: i % 2 ? 'procedural' : 'architectural',
      scope: i % 3 ? team.scope : `user:${org.id}:alice`,
      domain: 'software.deployment.payments',
      tags: ['deploy', 'migrations', 'payments', 'rollback'],
      rationale: 'Two 2025 incidents came from migrations never rehearsed on a copy.',
      commitment: 'decided',
      ...(i % 4 === 0 ? { valid_from: '2026-01-01', source: 'incident review 2025-11' } : {}),
    });
  }
});
afterAll(async () => {
  await server.close();
});

/** A recall result as the PLUR client reads it (remote-recall.ts processHostRows). */
function asClientReadsIt(row: Record<string, unknown>): Record<string, unknown> {
  const data = row.data as Record<string, unknown> | undefined;
  const engram: Record<string, unknown> =
    data && typeof data === 'object' && !('statement' in row)
      ? { ...data, id: row.id, scope: row.scope, status: row.status }
      : { ...row };
  delete engram.score;
  return engram;
}

/**
 * An engram's `data` as a recall result carries it: null fields absent, the strength only in activation,
 * no row timestamps (not in the client's engram model, and not read by it).
 */
const LEFT_OUT = new Set(['retrieval_strength', 'created_at', 'updated_at']);
const asRecalled = (data: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(data).filter(([key, value]) => value !== null && !LEFT_OUT.has(key)));

const recall = (o: Org, user: TestUser, path: string, limit = 100) =>
  o.as(user, 'POST', path, { query: QUERY, limit });

describe('a limit-100 recall of realistic engrams (600-character statements)', () => {
  for (const path of ['/api/v1/recall', '/api/v1/recall/bm25']) {
    it(`${path} stays under the client's 128 KiB cap and carries every field of each engram`, async () => {
      const res = await recall(org, alice, path);
      expect(res.status).toBe(200);
      expect(res.json.count).toBe(COUNT);
      expect(res.json.truncated).toBe(false);
      expect(Buffer.byteLength(res.text, 'utf8')).toBeLessThan(CLIENT_RESPONSE_CAP);
      for (const row of res.json.results) {
        expect(row.score).toBeGreaterThan(0);
        const engram = asClientReadsIt(row);
        const stored = (await org.as(alice, 'GET', `/api/v1/engrams/${engram.id as string}`)).json;
        expect(engram).toEqual(asRecalled(stored.data));
        expect((engram.activation as { retrieval_strength: number }).retrieval_strength).toBe(
          stored.data.retrieval_strength,
        );
      }
    });
  }
});

describe('engrams too long for limit results to fit in one answer', () => {
  it('answer with the best-ranked ones that fit, flagged truncated, and count only those', async () => {
    const big = new Org(server, 'big');
    const bob = await big.user('bob', 'editor');
    const ids: string[] = [];
    for (let i = 0; i < 60; i++)
      ids.push((await big.engram(bob, { statement: statement(i, 3000), tags: ['deploy'] })).id);
    const res = await recall(big, bob, '/api/v1/recall/bm25');
    expect(res.status).toBe(200);
    expect(Buffer.byteLength(res.text, 'utf8')).toBeLessThanOrEqual(CLIENT_RESPONSE_CAP);
    expect(res.json.truncated).toBe(true);
    expect(res.json.count).toBe(res.json.results.length);
    expect(res.json.count).toBeGreaterThan(30);
    expect(res.json.count).toBeLessThan(60);
    // The ones left out are the lowest ranked: the same query asking for exactly as many returns the same.
    const returned = res.json.results.map((r: { id: string }) => r.id);
    const exact = await recall(big, bob, '/api/v1/recall/bm25', res.json.count);
    expect(exact.json.truncated).toBe(false);
    expect(exact.json.results.map((r: { id: string }) => r.id)).toEqual(returned);
    // Recall counts only what it returned (each returned engram has now been recalled twice).
    const left = ids.find((id) => !returned.includes(id)) as string;
    const leftOut = (await big.as(bob, 'GET', `/api/v1/engrams/${left}`)).json.data;
    expect(leftOut.activation.frequency).toBe(0);
    const kept = (await big.as(bob, 'GET', `/api/v1/engrams/${returned[0] as string}`)).json.data;
    expect(kept.activation.frequency).toBe(2);
  });
});
