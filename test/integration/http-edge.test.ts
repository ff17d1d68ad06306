import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer } from '../helpers/engram.js';
import { rawRequest } from '../helpers/raw-http.js';
import { REFUSED } from '../helpers/refusals.js';
import { createLayerKey, uniqueWorkspace, type TestServer } from '../helpers/server.js';

/**
 * What reaches the HTTP edge before any route: repeated credentials, and the limits uWS enforces itself.
 * fetch merges repeated headers into one, so these requests go over a raw socket.
 */
let server: TestServer;
let layerKey: string;
let userKey: string;

beforeAll(async () => {
  server = await startEngramServer();
  layerKey = await createLayerKey(server, uniqueWorkspace('edge'));
  const org = new Org(server, 'edge');
  userKey = (await org.user('edgy')).key;
});
afterAll(async () => {
  await server.close();
});

const get = (path: string, headerLines: string[]): string =>
  [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headerLines, '', ''].join('\r\n');

const UPGRADE = [
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
];

describe('two Authorization headers', () => {
  it('are refused on the layer API, whichever of them is valid', async () => {
    for (const pair of [
      ['Bearer not-a-key', `Bearer ${layerKey}`],
      [`Bearer ${layerKey}`, 'Bearer not-a-key'],
      [`Bearer ${layerKey}`, `Bearer ${layerKey}`],
    ]) {
      const answer = await rawRequest(
        server.port,
        get(
          '/v1/me',
          pair.map((v) => `Authorization: ${v}`),
        ),
      );
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toEqual({ detail: REFUSED.repeated.detail, status: 401 });
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="mnemo", error="invalid_request"');
    }
  });

  it('are refused on the engram API with a problem document', async () => {
    const answer = await rawRequest(
      server.port,
      get('/api/v1/me', ['Authorization: Bearer nope', `Authorization: Bearer ${userKey}`]),
    );
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body).detail).toBe(REFUSED.repeated.detail);
  });

  it('refuse the event-stream upgrade too (it used to take the first)', async () => {
    for (const path of ['/v1/events', '/api/v1/events']) {
      const valid = path === '/v1/events' ? layerKey : userKey;
      const answer = await rawRequest(
        server.port,
        get(path, [...UPGRADE, `Authorization: Bearer ${valid}`, 'Authorization: Bearer nope']),
      );
      expect([path, answer.status]).toEqual([path, 401]);
      expect(JSON.parse(answer.body).detail).toBe(REFUSED.repeated.detail);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="mnemo", error="invalid_request"');
    }
  });

  it('leave one valid header working', async () => {
    const answer = await rawRequest(server.port, get('/v1/me', [`Authorization: Bearer ${layerKey}`]));
    expect(answer.status).toBe(200);
  });
});

describe('limits uWS enforces before any JavaScript runs (documented in the README)', () => {
  it('answers request heads over 4 KB with its own 431 and closes', async () => {
    const answer = await rawRequest(server.port, get(`/v1/me?pad=${'a'.repeat(5000)}`, []));
    expect(answer.status).toBe(431);
    expect(answer.headers.connection).toBe('close');
  });
});
