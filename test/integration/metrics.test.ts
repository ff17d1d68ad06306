import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config.js';
import { randomHex } from '../../src/ids.js';
import { parsePrometheusText, sumOf, valueOf, type Family } from '../helpers/prometheus-text.js';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';
import { connectEvents } from '../helpers/ws.js';

const METRICS_TOKEN = `metrics-${randomHex(12)}`;

/** Every metric the README lists; each must be in the exposition (with its TYPE) from the first scrape. */
const EXPECTED = {
  counter: [
    'mnemo_http_requests_total',
    'mnemo_rate_limit_rejections_total',
    'mnemo_redis_unavailable_responses_total',
    'mnemo_redis_connection_errors_total',
    'mnemo_search_index_loads_total',
    'mnemo_search_index_evictions_total',
    'mnemo_search_index_rebuilds_total',
    'mnemo_events_sent_total',
    'mnemo_event_backpressure_closes_total',
    'mnemo_credential_cache_hits_total',
    'mnemo_credential_cache_misses_total',
    'mnemo_job_attempts_total',
    'mnemo_job_failures_total',
    'mnemo_webhook_deliveries_total',
    'process_cpu_seconds_total',
  ],
  gauge: [
    'mnemo_processes',
    'mnemo_search_index_workspaces',
    'mnemo_search_index_bytes',
    'mnemo_search_index_documents',
    'mnemo_search_index_vectors',
    'mnemo_event_sockets_open',
    'mnemo_event_workspaces_followed',
    'mnemo_credential_cache_hit_ratio',
    'mnemo_credential_cache_entries',
    'mnemo_job_queue_jobs',
    'mnemo_redis_up',
    'mnemo_redis_ping_seconds',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
  ],
  histogram: [
    'mnemo_http_request_duration_seconds',
    'mnemo_recall_duration_seconds',
    'mnemo_search_index_load_duration_seconds',
    'mnemo_search_catchup_lag_events',
    'mnemo_search_catchup_duration_seconds',
    'mnemo_webhook_delivery_duration_seconds',
  ],
};

let server: TestServer;

async function scrape(token: string | undefined = METRICS_TOKEN): Promise<Map<string, Family>> {
  const res = await server.request('GET', '/metrics', token === undefined ? {} : { token });
  expect(res.status).toBe(200);
  return parsePrometheusText(res.text);
}

beforeAll(async () => {
  server = await startServer({ metricsToken: METRICS_TOKEN });
});
afterAll(async () => {
  await server?.close();
});

describe('GET /metrics', () => {
  it('answers the Prometheus text format, parsed strictly, with every listed metric and its type', async () => {
    const res = await server.request('GET', '/metrics', { token: METRICS_TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusText(res.text);
    for (const [type, names] of Object.entries(EXPECTED)) {
      for (const name of names) {
        expect(families.get(name)?.type, name).toBe(type);
        expect(families.get(name)?.help, name).not.toBe('');
      }
    }
    expect(valueOf(families, 'mnemo_processes')).toBe(1);
    expect(valueOf(families, 'mnemo_redis_up')).toBe(1);
    expect(valueOf(families, 'mnemo_redis_ping_seconds')).toBeGreaterThan(0);
  });

  it('counts requests by route template, method and status as they are made', async () => {
    const health = { route: '/health', method: 'GET', status: '200' };
    const before = (await scrape()).get('mnemo_http_requests_total');
    const count = (f: Map<string, Family>) => valueOf(f, 'mnemo_http_requests_total', health) ?? 0;
    const start = before ? count(new Map([['x', before]])) : 0;
    for (let i = 0; i < 3; i++) expect((await server.request('GET', '/health')).status).toBe(200);
    const after = await scrape();
    expect(count(after)).toBe(start + 3);
    expect(valueOf(after, 'mnemo_http_request_duration_seconds_count', health)).toBe(start + 3);
  });

  it('labels a request by its route template, never its raw path (ids and unknown paths stay out)', async () => {
    const key = await createLayerKey(server, uniqueWorkspace('tpl'));
    const id = `mem_${randomHex(8)}`;
    const stray = `/no-such-${randomHex(6)}`;
    expect((await server.request('GET', `/v1/memory/${id}`, { token: key })).status).toBe(404);
    expect((await server.request('GET', stray)).status).toBe(404);
    expect((await server.request('BREW', '/health')).status).toBeGreaterThanOrEqual(400);
    const res = await server.request('GET', '/metrics', { token: METRICS_TOKEN });
    const families = parsePrometheusText(res.text);
    expect(res.text).not.toContain(id);
    expect(res.text).not.toContain(stray);
    expect(res.text).not.toContain('BREW');
    expect(
      valueOf(families, 'mnemo_http_requests_total', {
        route: '/v1/memory/:id',
        method: 'GET',
        status: '404',
      }),
    ).toBe(1);
    expect(
      valueOf(families, 'mnemo_http_requests_total', { route: '(unmatched)', method: 'GET', status: '404' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('moves the recall, index, cache and event figures as memories are written and searched', async () => {
    const workspace = uniqueWorkspace('fig');
    const key = await createLayerKey(server, workspace);
    const events = await connectEvents(server, key);
    try {
      await events.subscribe({});
      const before = await scrape();
      const recalls = (f: Map<string, Family>) =>
        sumOf(f, 'mnemo_recall_duration_seconds_count', { operation: 'recall' });
      const remember = await server.request('POST', '/v1/remember', {
        token: key,
        body: { content: 'The staging database runs on port 5433', user_id: 'u1' },
      });
      expect(remember.status).toBe(200);
      await events.waitFor((frame) => typeof frame.type === 'string' && frame.type.startsWith('memory.'));
      const recall = await server.request('POST', '/v1/recall', {
        token: key,
        body: { query: 'staging database port', user_id: 'u1' },
      });
      expect(recall.status).toBe(200);
      const after = await scrape();
      expect(recalls(after)).toBe(recalls(before) + 1);
      expect(sumOf(after, 'mnemo_recall_duration_seconds_count', { mode: recall.json.mode })).toBeGreaterThan(
        0,
      );
      expect(valueOf(after, 'mnemo_search_index_workspaces')).toBeGreaterThanOrEqual(1);
      expect(valueOf(after, 'mnemo_search_index_documents')).toBeGreaterThan(0);
      expect(valueOf(after, 'mnemo_search_index_loads_total')).toBeGreaterThan(
        valueOf(before, 'mnemo_search_index_loads_total') ?? 0,
      );
      expect(valueOf(after, 'mnemo_search_catchup_duration_seconds_count')).toBeGreaterThan(0);
      expect(valueOf(after, 'mnemo_event_sockets_open')).toBe(1);
      expect(valueOf(after, 'mnemo_events_sent_total')).toBeGreaterThan(
        valueOf(before, 'mnemo_events_sent_total') ?? 0,
      );
      // The key was verified once, then served from memory.
      expect(valueOf(after, 'mnemo_credential_cache_hits_total', { cache: 'layer' })).toBeGreaterThan(
        valueOf(before, 'mnemo_credential_cache_hits_total', { cache: 'layer' }) ?? 0,
      );
      expect(valueOf(after, 'mnemo_credential_cache_hit_ratio', { cache: 'layer' })).toBeGreaterThan(0);
      expect(
        valueOf(after, 'mnemo_job_queue_jobs', { queue: 'mnemo-embed', state: 'waiting' }),
      ).toBeDefined();
    } finally {
      await events.close();
    }
    await expect
      .poll(async () => valueOf(await scrape(), 'mnemo_event_sockets_open'), { timeout: 10_000 })
      .toBe(0);
  });

  it('counts rate-limit rejections by face', async () => {
    const key = await createLayerKey(server, uniqueWorkspace('rl'), { rate_limit_rpm: 1 });
    const before = valueOf(await scrape(), 'mnemo_rate_limit_rejections_total', { face: 'layer' }) ?? 0;
    expect((await server.request('GET', '/v1/me', { token: key })).status).toBe(200);
    expect((await server.request('GET', '/v1/me', { token: key })).status).toBe(429);
    expect(valueOf(await scrape(), 'mnemo_rate_limit_rejections_total', { face: 'layer' })).toBe(before + 1);
  });
});

describe('GET /metrics access', () => {
  it('refuses a request without a credential, with a wrong one, or with a workspace key (401)', async () => {
    const key = await createLayerKey(server, uniqueWorkspace('acc'));
    for (const token of [undefined, 'not-the-token', `${METRICS_TOKEN}x`, key]) {
      const res = await server.request('GET', '/metrics', token === undefined ? {} : { token });
      expect(res.status, String(token)).toBe(401);
      expect(res.json).toEqual({ detail: expect.any(String), status: 401 });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(res.text).not.toContain('mnemo_http_requests_total');
    }
  });

  it('takes the metrics token and the admin key', async () => {
    await scrape(METRICS_TOKEN);
    await scrape(ADMIN_KEY);
  });

  it('is open to anyone with MNEMO_METRICS_PUBLIC=true', async () => {
    const open = await startServer({ metricsPublic: true });
    try {
      const res = await open.request('GET', '/metrics');
      expect(res.status).toBe(200);
      expect(parsePrometheusText(res.text).get('mnemo_http_requests_total')?.type).toBe('counter');
    } finally {
      await open.close();
    }
  });

  it('refuses a metrics token shorter than 16 characters, and a public flag that is not a boolean', () => {
    expect(() => loadConfig({ MNEMO_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ MNEMO_METRICS_PUBLIC: 'maybe' })).toThrow(ConfigError);
    expect(
      loadConfig({ MNEMO_METRICS_TOKEN: METRICS_TOKEN, MNEMO_METRICS_PUBLIC: 'false' }).metricsToken,
    ).toBe(METRICS_TOKEN);
  });
});
