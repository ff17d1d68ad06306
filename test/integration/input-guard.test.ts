import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/http/json-input.js';
import { Org, startEngramServer } from '../helpers/engram.js';
import { RedisDigest } from '../helpers/redis-digest.js';
import { ADMIN_KEY, createLayerKey, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { connectEvents } from '../helpers/ws.js';

/**
 * The input door (src/http/json-input.ts): invalid UTF-8, lone surrogates and deep nesting are refused with
 * a 400 in the face's dialect before anything is written, on both faces and on the event stream.
 */
let server: TestServer;
let layerKey: string;
let org: Org;
let digest: RedisDigest;

beforeAll(async () => {
  server = await startEngramServer();
  layerKey = await createLayerKey(server, uniqueWorkspace('guard'));
  org = new Org(server, 'guard');
  await org.engram(null, { statement: 'seed so the org exists' });
  digest = new RedisDigest();
  // The first use of a key records last_used_at off the request path: let that land before comparing.
  expect((await server.request('GET', '/v1/me', { token: layerKey })).status).toBe(200);
  await digest.settled();
});
afterAll(async () => {
  await digest.close();
  await server.close();
});

/** `{"a":{"a":...{"a":1}}}` with `levels` objects in all. */
const nested = (levels: number): string => '{"a":'.repeat(levels - 1) + '{"a":1}' + '}'.repeat(levels - 1);

const layer = (raw: string | Buffer) =>
  server.request('POST', '/v1/remember', {
    token: layerKey,
    rawBody: raw,
    headers: { 'content-type': 'application/json' },
  });
async function unchanged<T>(send: () => Promise<T>): Promise<T> {
  const before = await digest.take();
  const result = await send();
  expect(await digest.take()).toBe(before);
  return result;
}

describe('layer API bodies', () => {
  it('refuses a lone surrogate in a string and names the field', async () => {
    const res = await unchanged(() => layer('{"content":"hi","metadata":{"note":"\\ud83d"}}'));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      detail: 'body.metadata.note contains a lone UTF-16 surrogate (ill-formed Unicode)',
      status: 400,
    });
  });

  it('refuses a lone surrogate in a field name', async () => {
    const res = await unchanged(() => layer('{"content":"hi","metadata":{"\\udc00x":1}}'));
    expect(res.status).toBe(400);
    expect(res.json.detail).toBe(
      'body.metadata has a field name with a lone UTF-16 surrogate (ill-formed Unicode)',
    );
  });

  it('accepts a well-formed surrogate pair', async () => {
    const res = await layer('{"content":"party \\ud83c\\udf89","metadata":{"e":"\\ud83c\\udf89"}}');
    expect(res.status).toBe(200);
    expect(res.json.working.content).toBe('party 🎉');
  });

  it('refuses bytes that are not UTF-8 instead of storing U+FFFD', async () => {
    const raw = Buffer.concat([Buffer.from('{"content":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const res = await unchanged(() => layer(raw));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ detail: 'Request body is not valid UTF-8', status: 400 });
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels, even thousands deep, without a 500`, async () => {
    for (const levels of [MAX_JSON_DEPTH, 5000]) {
      const res = await unchanged(() => layer(`{"content":"deep","metadata":${nested(levels)}}`));
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(
        new RegExp(`^body\\.metadata(\\.a)* is nested deeper than ${MAX_JSON_DEPTH} levels$`),
      );
    }
  });

  it(`accepts exactly ${MAX_JSON_DEPTH} levels`, async () => {
    const res = await layer(`{"content":"deep enough","metadata":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(res.status).toBe(200);
  });

  it('refuses a JSON null body instead of reading it as {} (found by the fuzz suite)', async () => {
    const res = await unchanged(() =>
      server.request('POST', `/admin/workspaces/${uniqueWorkspace('n')}/reembed`, {
        token: ADMIN_KEY,
        rawBody: 'null',
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ detail: 'body must be object', status: 400 });
  });

  it('refuses a query value that is not percent-encoded UTF-8', async () => {
    const res = await unchanged(() =>
      server.request('DELETE', '/v1/memory?user_id=caf%E9', { token: layerKey }),
    );
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ detail: 'query.user_id is not valid percent-encoded UTF-8', status: 400 });
  });
});

describe('engram API bodies', () => {
  const create = (raw: string | Buffer) =>
    server.request('POST', '/api/v1/engrams', {
      rawBody: raw,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${ADMIN_KEY}`,
        'x-mnemo-org': org.id,
      },
    });

  it('answers a problem document naming the field', async () => {
    const res = await unchanged(() => create('{"statement":"s","tags":["ok","\\ud800"]}'));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toBe('body.tags.1 contains a lone UTF-16 surrogate (ill-formed Unicode)');
  });

  it('refuses invalid UTF-8 and deep nesting', async () => {
    const bad = Buffer.concat([Buffer.from('{"statement":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect((await unchanged(() => create(bad))).json.detail).toBe('Request body is not valid UTF-8');
    const deep = await unchanged(() => create(`{"statement":"s","extra":${nested(5000)}}`));
    expect(deep.status).toBe(400);
    expect(deep.json.type).toMatch(/validation-error$/);
  });
});

describe('event stream frames', () => {
  it('answers a frame with a lone surrogate with an error frame', async () => {
    const client = await connectEvents(server, layerKey);
    try {
      client.ws.send('{"op":"subscribe","id":"s1","types":["\\ud83d"]}');
      const error = await client.waitFor((f) => f.op === 'error');
      expect(error.code).toBe('invalid_message');
      expect(error.message).toBe('types.0 contains a lone UTF-16 surrogate (ill-formed Unicode)');
    } finally {
      await client.close();
    }
  });
});

describe('fields a route ignores', () => {
  it('are named in X-Mnemo-Ignored-Fields, and the memory is still stored', async () => {
    const res = await layer('{"content":"I like tea","userid":"bob","user_id":"u9","metadata":{"a":1}}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-mnemo-ignored-fields')).toBe('userid');
    const plain = await layer('{"content":"I like coffee","user_id":"u9"}');
    expect(plain.headers.get('x-mnemo-ignored-fields')).toBeNull();
  });

  it('are also listed as warnings in the envelopes that declare them, never inside recall results', async () => {
    const remembered = await layer('{"content":"I like green tea","userid":"bob"}');
    expect(remembered.json.warnings).toEqual(['Field userid is not used by this route and was ignored']);
    const plain = await layer('{"content":"I like black tea"}');
    expect(plain.json).not.toHaveProperty('warnings');
    const recall = await server.request('POST', '/v1/recall', {
      token: layerKey,
      body: { query: 'tea', topk: 3 },
    });
    expect(recall.status).toBe(200);
    expect(recall.json.warnings).toEqual(['Field topk is not used by this route and was ignored']);
    expect(recall.json.results.length).toBeGreaterThan(0);
    for (const result of recall.json.results) expect(result).not.toHaveProperty('warnings');
  });

  it('are not reported where the schema keeps unknown fields (engram extra data)', async () => {
    const res = await server.request('POST', '/api/v1/engrams', {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': org.id },
      body: { statement: 'Extra data is kept', ticket: 'OPS-1' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-mnemo-ignored-fields')).toBeNull();
  });

  it('are declared in the OpenAPI document', async () => {
    const doc = await server.request('GET', '/openapi.json');
    const success = doc.json.paths['/v1/remember'].post.responses['200'];
    expect(success.headers['X-Mnemo-Ignored-Fields'].schema).toEqual({ type: 'string' });
  });
});
