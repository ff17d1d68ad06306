import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText, sumOf, valueOf } from '../helpers/prometheus-text.js';
import { killSpawned } from '../helpers/process.js';
import { spawnServer, stopService, type ServerProcess } from '../helpers/server-process.js';

afterEach(async () => {
  await killSpawned();
});

describe('GET /metrics with MNEMO_PROCESSES=2', () => {
  it('answers for every process of the group, aggregated, whichever process is asked', async () => {
    let server: ServerProcess | undefined;
    try {
      server = await spawnServer({ MNEMO_PROCESSES: '2', MNEMO_METRICS_PUBLIC: 'true' });
      const base = server.base;
      const requests = 20;
      // A new connection each time, so the kernel spreads them over both processes.
      for (let i = 0; i < requests; i++) {
        const res = await fetch(`${base}/livez`, { headers: { connection: 'close' } });
        expect(res.status).toBe(200);
      }
      for (let scrape = 0; scrape < 4; scrape++) {
        const res = await fetch(`${base}/metrics`, { headers: { connection: 'close' } });
        expect(res.status).toBe(200);
        const families = parsePrometheusText(await res.text());
        expect(valueOf(families, 'mnemo_processes')).toBe(2);
        expect(
          sumOf(families, 'mnemo_http_requests_total', { route: '/livez', method: 'GET', status: '200' }),
        ).toBe(requests);
        expect(valueOf(families, 'mnemo_redis_up')).toBe(1);
      }
    } finally {
      await stopService(server?.service);
    }
  }, 120_000);
});
