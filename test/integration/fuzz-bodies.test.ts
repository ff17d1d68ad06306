import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/http/json-input.js';
import { Org, startEngramServer } from '../helpers/engram.js';
import { RedisDigest } from '../helpers/redis-digest.js';
import { ADMIN_KEY, createLayerKey, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { prng } from '../../bench/lib/corpus.js'; // the benchmarks' seeded mulberry32: one PRNG in the repo

/**
 * Malformed bodies against every JSON route of the live route table, with a valid credential of the kind
 * the route takes: each must get a 4xx in its face's dialect, never a 500, and change nothing in Redis
 * (a digest of every key of this file's prefix, global ones included, before and after each route).
 *
 * Seeded: the seed is printed; FUZZ_SEED=<n> replays a run. Every body carries at least one defect that no
 * schema can accept, so a 2xx is a bug too.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BODIES_PER_ROUTE = 12;

interface PropertySchema {
  type?: string | string[];
  maxLength?: number;
  maximum?: number;
  anyOf?: unknown[];
}

type Raw = string | Buffer;

/** Defects any route must refuse, whatever its schema. */
const UNIVERSAL: ((random: () => number) => Raw)[] = [
  () => '{"a":"\\ud83d"}',
  () => '{"\\udc00":1}',
  () => Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
  () => Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
  (r) => '['.repeat(MAX_JSON_DEPTH + 1 + Math.floor(r() * 5000)) + ']'.repeat(0),
  (r) => {
    const depth = MAX_JSON_DEPTH + 1 + Math.floor(r() * 3000);
    return '{"x":'.repeat(depth) + '1' + '}'.repeat(depth);
  },
  () => '[]',
  () => '[{"content":"x"}]',
  () => 'null',
  () => '12345',
  () => '"a string"',
  () => '{"unterminated": ',
  () => '{bad json}',
];

/** A defect aimed at one declared property: a value its schema cannot accept. */
function propertyDefect(schema: PropertySchema, random: () => number): unknown {
  if (schema.anyOf) return undefined;
  const type = schema.type;
  if (typeof type !== 'string') return undefined;
  const choices: unknown[] = [];
  if (type === 'string') {
    choices.push(12345, true, [], { nested: 1 });
    if (schema.maxLength !== undefined && schema.maxLength < 100_000)
      choices.push('x'.repeat(schema.maxLength + 1));
  }
  if (type === 'number' || type === 'integer') {
    choices.push('12', [], { n: 1 }, true);
    if (schema.maximum !== undefined) choices.push(1e308);
  }
  if (type === 'integer') choices.push(1.5);
  if (type === 'boolean') choices.push('yes', 1, []);
  if (type === 'array') choices.push({ not: 'an array' }, 'a', 7);
  if (type === 'object') choices.push(['an', 'array'], 'a', 7);
  if (choices.length === 0) return undefined;
  return choices[Math.floor(random() * choices.length)];
}

/** A plausible value for a property, so bodies look real apart from their defect. */
function filler(schema: PropertySchema, random: () => number): unknown {
  const pick = [null, 'probe', 0.5, 3, true, ['a'], { k: 'v' }, '\u00e9\u{1f389}'];
  if (schema.type === 'string') return 'probe';
  return pick[Math.floor(random() * pick.length)];
}

function malformedBodies(bodySchema: unknown, random: () => number): Raw[] {
  const properties = (bodySchema as { properties?: Record<string, PropertySchema> }).properties ?? {};
  const names = Object.keys(properties);
  const bodies: Raw[] = [];
  for (let i = 0; i < BODIES_PER_ROUTE; i++) {
    const targeted = names.filter(
      (n) => propertyDefect(properties[n] as PropertySchema, () => 0) !== undefined,
    );
    if (i % 2 === 0 && targeted.length > 0) {
      const body: Record<string, unknown> = {};
      for (const name of names)
        if (random() < 0.7) body[name] = filler(properties[name] as PropertySchema, random);
      const victim = targeted[Math.floor(random() * targeted.length)] as string;
      body[victim] = propertyDefect(properties[victim] as PropertySchema, random);
      bodies.push(JSON.stringify(body));
    } else {
      bodies.push((UNIVERSAL[Math.floor(random() * UNIVERSAL.length)] as (r: () => number) => Raw)(random));
    }
  }
  return bodies;
}

let server: TestServer;
let layerKey: string;
let userKey: string;
let scimToken: string;
let org: Org;
let digest: RedisDigest;
let engramId: string;

beforeAll(async () => {
  console.log(`fuzz-bodies seed: ${SEED} (replay with FUZZ_SEED=${SEED})`);
  server = await startEngramServer({ layerRateLimitRpm: 1_000_000 });
  layerKey = await createLayerKey(server, uniqueWorkspace('fuzz'));
  org = new Org(server, 'fuzz');
  userKey = (await org.user('fuzzer', 'admin')).key;
  engramId = (await org.engram(null, { statement: 'A fuzz target that must not change' })).id;
  scimToken = (await org.admin('POST', '/api/v1/admin/scim/tokens', {})).json.token as string;
  await server.request('GET', '/scim/v2/Users', { token: scimToken });
  // Keys record their first use off the request path: let that land before the first digest.
  await server.request('GET', '/v1/me', { token: layerKey });
  await server.request('GET', '/api/v1/me', { token: userKey });
  digest = new RedisDigest();
  await digest.settled();
});
afterAll(async () => {
  await digest.close();
  await server.close();
});

function headersFor(auth: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth === 'layer') headers.authorization = `Bearer ${layerKey}`;
  if (auth === 'engram') headers.authorization = `Bearer ${userKey}`;
  if (auth === 'scim') headers.authorization = `Bearer ${scimToken}`;
  if (auth === 'admin') {
    headers.authorization = `Bearer ${ADMIN_KEY}`;
    headers['x-mnemo-org'] = org.id;
  }
  return headers;
}

const urlOf = (path: string): string =>
  path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => (name === 'id' ? engramId : 'x1'));

describe(`malformed bodies on every JSON route (seed ${SEED})`, () => {
  it('answers 4xx in the dialect, never 500, and changes nothing', async () => {
    const random = prng(SEED);
    const routes = server.routes.filter((r) => r.schema.body !== undefined);
    expect(routes.length).toBeGreaterThanOrEqual(15);
    for (const route of routes) {
      const url = urlOf(route.path);
      const before = await digest.take();
      for (const raw of malformedBodies(route.schema.body, random)) {
        const res = await server.request(route.method, url, {
          rawBody: raw,
          headers: headersFor(route.auth),
        });
        const label = `${route.method} ${route.path} <- ${Buffer.from(raw).toString('utf8').slice(0, 120)} (seed ${SEED})`;
        expect({ label, status: res.status >= 400 && res.status < 500 }).toEqual({ label, status: true });
        if (route.face === 'engram') {
          expect({ label, type: res.headers.get('content-type') }).toEqual({
            label,
            type: 'application/problem+json',
          });
          expect({ label, body: res.json }).toEqual({
            label,
            body: {
              type: expect.any(String),
              title: expect.any(String),
              status: res.status,
              detail: expect.any(String),
              instance: url,
            },
          });
        } else if (route.face === 'scim') {
          expect({ label, type: res.headers.get('content-type') }).toEqual({
            label,
            type: 'application/scim+json',
          });
          expect({ label, body: res.json }).toEqual({
            label,
            body: {
              schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
              status: String(res.status),
              detail: expect.any(String),
              ...(res.json?.scimType === undefined ? {} : { scimType: expect.any(String) }),
            },
          });
        } else {
          expect({ label, type: res.headers.get('content-type') }).toEqual({
            label,
            type: 'application/json',
          });
          expect({ label, body: res.json }).toEqual({
            label,
            body: { detail: expect.any(String), status: res.status },
          });
        }
      }
      expect({ route: `${route.method} ${route.path}`, digest: await digest.take() }).toEqual({
        route: `${route.method} ${route.path}`,
        digest: before,
      });
    }
  });
});
