import net from 'node:net';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MnemoError } from '../../src/errors.js';
import { defineRoute } from '../../src/http/route.js';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;
let releaseSlow: () => void = () => undefined;

const testRoutes = () => [
  defineRoute({
    method: 'GET',
    path: '/v1/test/throw',
    face: 'layer',
    auth: 'none',
    summary: 'throws',
    schema: { response: { 200: Type.Object({}) } },
    handler: async () => {
      throw new Error('boom: a bug in a handler');
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/test/throw',
    face: 'engram',
    auth: 'none',
    summary: 'throws in the engram face',
    schema: { response: { 200: Type.Object({}) } },
    handler: async () => {
      throw new Error('boom');
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/test/conflict',
    face: 'engram',
    auth: 'none',
    summary: 'a domain error in the engram face',
    schema: { response: { 200: Type.Object({}) } },
    handler: async () => {
      throw new MnemoError('conflict', 'Engram ENG-1 already exists');
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/test/echo',
    face: 'layer',
    auth: 'none',
    summary: 'echo',
    schema: {
      body: Type.Object({ text: Type.String() }),
      response: { 200: Type.Object({ text: Type.String(), size: Type.Integer() }) },
    },
    handler: async ({ body }) => ({ text: body.text, size: body.text.length }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/test/slow',
    face: 'layer',
    auth: 'none',
    summary: 'answers when released',
    schema: { response: { 200: Type.Object({ done: Type.Boolean() }) } },
    handler: () =>
      new Promise<{ done: boolean }>((resolve) => {
        releaseSlow = () => resolve({ done: true });
      }),
  }),
];

beforeAll(async () => {
  server = await startServer(
    { bodyLimitBytes: 4096, corsOrigins: ['https://app.example'] },
    { extraRoutes: testRoutes },
  );
});
afterAll(async () => {
  await server.close();
});

describe('HTTP core', () => {
  it('answers 404 for an unknown path in the face dialect', async () => {
    const layer = await server.request('GET', '/v1/nothing-here');
    expect(layer.status).toBe(404);
    expect(layer.json).toEqual({ detail: 'No route for /v1/nothing-here', status: 404 });
    const engram = await server.request('GET', '/api/v1/nothing-here');
    expect(engram.status).toBe(404);
    expect(engram.headers.get('content-type')).toBe('application/problem+json');
    expect(engram.json).toEqual({
      type: expect.stringContaining('not-found'),
      title: 'Not found',
      status: 404,
      detail: 'No route for /api/v1/nothing-here',
      instance: '/api/v1/nothing-here',
    });
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const res = await server.request('DELETE', '/health');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(res.json.status).toBe(405);
  });

  it('answers 400 for invalid JSON and for a missing body', async () => {
    const invalid = await server.request('POST', '/v1/test/echo', {
      rawBody: '{"text": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toEqual({ detail: 'Invalid JSON body', status: 400 });
    const missing = await server.request('POST', '/v1/test/echo');
    expect(missing.status).toBe(400);
    expect(missing.json.detail).toBe('body.text is required');
  });

  it('answers 413 for a body over the limit, declared or streamed', async () => {
    const big = await server.request('POST', '/v1/test/echo', { body: { text: 'x'.repeat(5000) } });
    expect(big.status).toBe(413);
    expect(big.json).toEqual({ detail: 'Request body exceeds the limit of 4096 bytes', status: 413 });
    // Chunked upload without Content-Length: the limit is enforced while reading.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"text":"' + 'y'.repeat(3000)));
        controller.enqueue(new TextEncoder().encode('y'.repeat(3000) + '"}'));
        controller.close();
      },
    });
    const init: RequestInit & { duplex: 'half' } = { method: 'POST', body: stream, duplex: 'half' };
    const res = await fetch(`${server.url}/v1/test/echo`, init);
    expect(res.status).toBe(413);
    // A body just under the limit is fine.
    const ok = await server.request('POST', '/v1/test/echo', { body: { text: 'z'.repeat(4000) } });
    expect(ok.status).toBe(200);
    expect(ok.json.size).toBe(4000);
  });

  it('answers 500 in each dialect when a handler throws, and keeps serving', async () => {
    const layer = await server.request('GET', '/v1/test/throw');
    expect(layer.status).toBe(500);
    expect(layer.json).toEqual({ detail: 'Internal server error', status: 500 });
    expect(layer.text).not.toContain('boom');
    const engram = await server.request('GET', '/api/v1/test/throw');
    expect(engram.status).toBe(500);
    expect(engram.json.title).toBe('Internal server error');
    for (let i = 0; i < 3; i++) expect((await server.request('GET', '/health')).status).toBe(200);
  });

  it('renders domain errors as problem documents on the engram face', async () => {
    const res = await server.request('GET', '/api/v1/test/conflict');
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ title: 'Conflict', status: 409, detail: 'Engram ENG-1 already exists' });
  });

  it('sets X-Request-Id (echoing a valid one) and X-Latency-Ms on every response', async () => {
    const mine = await server.request('GET', '/health', { headers: { 'x-request-id': 'req-123.abc' } });
    expect(mine.headers.get('x-request-id')).toBe('req-123.abc');
    expect(Number(mine.headers.get('x-latency-ms'))).toBeGreaterThanOrEqual(0);
    const hostile = await server.request('GET', '/nope', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(hostile.headers.get('x-latency-ms')).not.toBeNull();
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const pre = await server.request('OPTIONS', '/admin/keys', {
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const other = await server.request('OPTIONS', '/admin/keys', {
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await server.request('GET', '/health', { headers: { origin: 'https://app.example' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(simple.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/);
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await fetch(`${server.url}/health`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('survives a client that disconnects before the answer', async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1', () => {
        socket.write('GET /v1/test/slow HTTP/1.1\r\nHost: x\r\n\r\n');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    releaseSlow(); // the handler finishes after the client left; nothing may throw
    expect((await server.request('GET', '/health')).status).toBe(200);
  });

  it('publishes an OpenAPI document that covers every route', async () => {
    const res = await server.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
    const documented = new Set(
      Object.entries(res.json.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
      ),
    );
    expect(server.routes.length).toBeGreaterThan(5);
    for (const route of server.routes) {
      expect(documented).toContain(`${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
    expect(documented).toContain('DELETE /admin/keys/{key_id}');
    const yaml = await server.request('GET', '/openapi.yaml');
    expect(yaml.headers.get('content-type')).toBe('application/yaml');
    expect(yaml.text).toMatch(/^openapi: 3\.1\.0/m);
  });
});

describe('rate limiting', () => {
  it('limits a key to its rate_limit_rpm with RateLimit-* headers and 429 + Retry-After', async () => {
    const key = await createLayerKey(server, uniqueWorkspace('rl'), { rate_limit_rpm: 3 });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await server.request('GET', '/v1/me', { token: key });
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('ratelimit-limit')).toBe('3');
        expect(last.headers.get('ratelimit-remaining')).toBe('2');
        expect(Number(last.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.json).toEqual({ detail: 'Rate limit of 3 requests per minute exceeded', status: 429 });
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last?.headers.get('ratelimit-remaining')).toBe('0');
    // Another key of the same workspace has its own budget.
    const other = await createLayerKey(server, uniqueWorkspace('rl'), { rate_limit_rpm: 3 });
    expect((await server.request('GET', '/v1/me', { token: other })).status).toBe(200);
  });

  it('uses the server default for keys without their own limit', async () => {
    const key = await createLayerKey(server, uniqueWorkspace('rl'));
    const res = await server.request('GET', '/v1/me', { token: key });
    expect(res.headers.get('ratelimit-limit')).toBe('600');
    expect(res.json.rate_limit_rpm).toBe(600);
  });

  it('does not rate limit the admin key or /health', async () => {
    const res = await server.request('GET', '/admin/keys/none', { token: ADMIN_KEY });
    expect(res.headers.get('ratelimit-limit')).toBeNull();
  });
});
