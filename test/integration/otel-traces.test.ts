import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';

/**
 * Request traces over OTLP/HTTP (MNEMO_OTEL_ENDPOINT) into a collector the test runs on 127.0.0.1: the
 * spans of a recall join the caller's trace, nest auth, search and Redis scripts under the request, carry
 * route templates and ids but never keys or memory content, and an unsampled caller records nothing.
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status: { code: number; message?: string };
}

const bodies: string[] = [];
let collector: http.Server;
let server: TestServer;

beforeAll(async () => {
  collector = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(Buffer.concat(chunks).toString());
      res.writeHead(req.url === '/v1/traces' ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  server = await startServer({ otelEndpoint: `http://127.0.0.1:${port}`, otelServiceName: 'mnemo-test' });
});

afterAll(async () => {
  await server?.close();
  await new Promise<void>((resolve) => collector.close(() => resolve()));
});

const spans = (): OtlpSpan[] =>
  bodies.flatMap((body) => {
    const doc = JSON.parse(body) as {
      resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    return doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  });
const ofTrace = (traceId: string) => spans().filter((s) => s.traceId === traceId);
const attribute = (span: OtlpSpan, key: string) => span.attributes.find((a) => a.key === key)?.value;

describe('OpenTelemetry traces', () => {
  it('records a recall as a server span of the caller trace, with auth, search and Redis spans inside', async () => {
    const key = await createLayerKey(server, uniqueWorkspace('otel'));
    const secret = `otel-content-${randomHex(6)}`;
    await server.request('POST', '/v1/remember', { token: key, body: { content: secret } });
    const traceId = randomHex(16);
    const parent = randomHex(8);
    const res = await server.request('POST', '/v1/recall', {
      token: key,
      body: { query: secret },
      headers: { traceparent: `00-${traceId}-${parent}-01` },
    });
    expect(res.status).toBe(200);

    await expect
      .poll(() => ofTrace(traceId).some((s) => s.name === 'POST /v1/recall'), { timeout: 10_000 })
      .toBe(true);
    const trace = ofTrace(traceId);
    const root = trace.find((s) => s.name === 'POST /v1/recall') as OtlpSpan;
    expect(root.parentSpanId).toBe(parent);
    expect(root.kind).toBe(2);
    expect(attribute(root, 'http.route')).toEqual({ stringValue: '/v1/recall' });
    expect(attribute(root, 'http.response.status_code')).toEqual({ intValue: '200' });
    expect(attribute(root, 'mnemo.request_id')).toEqual({ stringValue: res.headers.get('x-request-id') });
    expect(root.status.code).toBe(1);
    expect(BigInt(root.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(root.startTimeUnixNano));

    const auth = trace.find((s) => s.name === 'auth');
    const search = trace.find((s) => s.name === 'search');
    expect(auth?.parentSpanId).toBe(root.spanId);
    expect(search?.parentSpanId).toBe(root.spanId);
    expect(attribute(search as OtlpSpan, 'mnemo.search.mode')).toEqual({ stringValue: 'hybrid' });
    const scripts = trace.filter((s) => s.name.startsWith('redis '));
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(script.kind).toBe(3);
      expect(attribute(script, 'db.system')).toEqual({ stringValue: 'redis' });
      expect(trace.some((s) => s.spanId === script.parentSpanId)).toBe(true);
    }
    // The rate limit runs as a script while the request is served.
    expect(scripts.map((s) => s.name)).toContain('redis rateLimit');

    const everything = bodies.join('\n');
    expect(everything).toContain('"service.name","value":{"stringValue":"mnemo-test"}');
    expect(everything).not.toContain(key);
    expect(everything).not.toContain(secret);
  });

  it('records nothing for a caller that did not sample, and starts a new trace for a malformed traceparent', async () => {
    const unsampled = randomHex(16);
    await server.request('GET', '/health', {
      headers: { traceparent: `00-${unsampled}-${randomHex(8)}-00` },
    });
    const marker = randomHex(16);
    await server.request('GET', '/health', { headers: { traceparent: `00-${marker}-${randomHex(8)}-01` } });
    const before = new Set(spans().map((s) => s.spanId));
    await server.request('GET', '/health', { headers: { traceparent: 'not-a-traceparent' } });
    await expect.poll(() => ofTrace(marker).length, { timeout: 10_000 }).toBeGreaterThan(0);
    // Spans leave in the order they end, so the unsampled request's would have arrived before the marker's.
    expect(ofTrace(unsampled)).toEqual([]);
    await expect
      .poll(() => spans().filter((s) => !before.has(s.spanId) && s.name === 'GET /health').length, {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    const fresh = spans().filter(
      (s) => !before.has(s.spanId) && s.name === 'GET /health' && s.traceId !== marker,
    );
    for (const span of fresh) expect(span.parentSpanId).toBeUndefined();
  });

  it('keeps answering while the collector refuses (spans are dropped, requests are not slowed into errors)', async () => {
    const collectorless = await startServer({ otelEndpoint: 'http://127.0.0.1:9/' });
    try {
      for (let i = 0; i < 5; i++) expect((await collectorless.request('GET', '/health')).status).toBe(200);
    } finally {
      await collectorless.close();
    }
  });
});
