import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Org, startEngramServer } from '../helpers/engram.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Rate limits per credential, the /api/v1 OpenAPI document, and problem documents for HTTP errors. */
describe('rate limits', () => {
  let server: TestServer;

  beforeAll(async () => {
    // 10 requests a minute per credential, of which 3 may be writes.
    server = await startServer({ engramRateLimitRpm: 10, engramWriteRateLimitRpm: 3 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('limit writes to their own bucket, keep read-only POSTs out of it, and answer 429 problem documents', async () => {
    const org = new Org(server);
    const user = await org.admin('POST', '/api/v1/admin/users', { username: 'rl', role: 'editor' });
    const key = (await org.admin('POST', '/api/v1/admin/api-keys', { user_id: user.json.id })).json
      .key as string;

    const first = await org.as(key, 'POST', '/api/v1/engrams', { statement: 'Rate limited write 0' });
    expect(first.status).toBe(201);
    expect(first.headers.get('ratelimit-limit')).toBe('3');
    expect(first.headers.get('ratelimit-remaining')).toBe('2');
    expect(first.headers.get('ratelimit-reset')).toMatch(/^\d+$/);
    for (let i = 1; i < 3; i++)
      expect(
        (await org.as(key, 'POST', '/api/v1/engrams', { statement: `Rate limited write ${i}` })).status,
      ).toBe(201);
    const limited = await org.as(key, 'POST', '/api/v1/engrams', { statement: 'One write too many' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.json).toMatchObject({
      type: 'https://mnemo.dev/errors/rate-limited',
      status: 429,
      instance: '/api/v1/engrams',
    });
    expect((await org.as(key, 'PATCH', '/api/v1/engrams/ENG-1999-01-01-001', { tags: [] })).status).toBe(429);

    // Recall, recall/bm25 and inject only read: they are not writes.
    expect((await org.as(key, 'POST', '/api/v1/recall', { query: 'rate' })).status).toBe(200);
    expect((await org.as(key, 'POST', '/api/v1/recall/bm25', { query: 'rate' })).status).toBe(200);
    const injected = await org.as(key, 'POST', '/api/v1/inject', { task: 'rate' });
    expect(injected.status).toBe(200);
    expect(injected.headers.get('ratelimit-limit')).toBe('10');

    // Then the general bucket: 3 writes + 3 reads so far; 4 more pass, the next is refused.
    for (let i = 0; i < 4; i++) expect((await org.as(key, 'GET', '/api/v1/me')).status).toBe(200);
    const exhausted = await org.as(key, 'GET', '/api/v1/me');
    expect(exhausted.status).toBe(429);
    expect(exhausted.headers.get('ratelimit-remaining')).toBe('0');

    // Another credential has its own buckets.
    expect((await org.admin('GET', '/api/v1/me')).status).toBe(200);
  });

  it('give the admin key one bucket per organisation it acts on', async () => {
    const busy = new Org(server, 'busy');
    const quiet = new Org(server, 'quiet');
    for (let i = 0; i < 10; i++) expect((await busy.admin('GET', '/api/v1/me')).status).toBe(200);
    const limited = await busy.admin('GET', '/api/v1/me');
    expect(limited.status).toBe(429);
    expect(limited.json.type).toBe('https://mnemo.dev/errors/rate-limited');

    // The same admin key acting on another organisation is not throttled by the first one's traffic.
    const other = await quiet.admin('GET', '/api/v1/me');
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-limit')).toBe('10');
    expect(other.headers.get('ratelimit-remaining')).toBe('9');
    for (let i = 0; i < 3; i++)
      expect((await quiet.admin('POST', '/api/v1/engrams', { statement: `Quiet ${i}` })).status).toBe(201);
    // ...and the busy organisation stays limited.
    expect((await busy.admin('GET', '/api/v1/me')).status).toBe(429);
    expect((await busy.admin('POST', '/api/v1/engrams', { statement: 'Busy' })).status).toBe(429);
  });
});

describe('HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startEngramServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves an OpenAPI document of the /api/v1 routes only, as YAML and JSON', async () => {
    const json = await server.request('GET', '/api/v1/openapi.json');
    expect(json.status).toBe(200);
    const paths = Object.keys(json.json.paths);
    expect(paths.every((p) => p.startsWith('/api/v1/'))).toBe(true);
    for (const path of [
      '/api/v1/engrams',
      '/api/v1/engrams/{id}',
      '/api/v1/engrams/{id}/feedback',
      '/api/v1/engrams/{id}/promote',
      '/api/v1/engrams/{id}/pin',
      '/api/v1/recall',
      '/api/v1/recall/bm25',
      '/api/v1/inject',
      '/api/v1/episodes',
      '/api/v1/episodes/{id}',
      '/api/v1/sessions',
      '/api/v1/sessions/{id}/end',
      '/api/v1/sessions/{id}',
      '/api/v1/me',
      '/api/v1/admin/users',
      '/api/v1/admin/groups',
      '/api/v1/admin/groups/{id}/members',
      '/api/v1/admin/groups/{id}/members/{user_id}',
      '/api/v1/admin/api-keys',
      '/api/v1/admin/api-keys/{id}',
    ])
      expect(paths, path).toContain(path);
    const create = json.json.paths['/api/v1/engrams'].post;
    expect(create.responses['201']).toBeDefined();
    expect(create.responses['400'].content['application/problem+json']).toBeDefined();
    const yaml = await server.request('GET', '/api/v1/openapi.yaml');
    expect(yaml.headers.get('content-type')).toBe('application/yaml');
    expect(parse(yaml.text)).toEqual(json.json);
    const all = await server.request('GET', '/openapi.json');
    expect(Object.keys(all.json.paths)).toEqual(expect.arrayContaining(['/v1/recall', '/api/v1/recall']));
  });

  it('answers unknown /api paths and wrong methods with problem documents', async () => {
    const org = new Org(server);
    const unknown = await org.admin('GET', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    const method = await org.admin('PUT', '/api/v1/engrams');
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(method.json.type).toBe('https://mnemo.dev/errors/method-not-allowed');
  });

  it('allows the X-Mnemo-Org header in CORS preflights', async () => {
    const res = await fetch(`${server.url}/api/v1/engrams`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')).toContain('X-Mnemo-Org');
  });
});
