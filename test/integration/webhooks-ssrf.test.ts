import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, PROBLEM_FIELDS, startEngramServer } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';
import {
  poll,
  startConnectionCounter,
  startDnsServer,
  type startConnectionCounter as Counter,
} from '../helpers/webhook-receiver.js';

/**
 * SSRF: without MNEMO_ALLOW_PRIVATE_URLS, webhook URLs must be https and resolve to public addresses, checked
 * at registration and again at every delivery. Names resolve through a DNS server of the test's own on
 * 127.0.0.1 (MNEMO_WEBHOOK_DNS_SERVERS), so "a hostname resolving to 10.0.0.1" is real DNS. A TCP listener on
 * 127.0.0.1 counts connections, to show a refused URL is refused before any connection is made.
 */
let server: TestServer;
let org: Org;
let dns: Awaited<ReturnType<typeof startDnsServer>>;
let counter: Awaited<ReturnType<typeof Counter>>;
const records = new Map<string, string>();

beforeAll(async () => {
  dns = await startDnsServer(records);
  counter = await startConnectionCounter();
  server = await startEngramServer({
    allowPrivateUrls: false,
    webhookDnsServers: [dns.address],
    webhookRetryBaseMs: 20,
    webhookRetryMaxDelayMs: 50,
    webhookAttempts: 1,
    webhookPollMs: 50,
    webhookTimeoutMs: 2000,
  });
  org = new Org(server, 'ssrf');
});
afterAll(async () => {
  await server?.close();
  await counter?.close();
  await dns?.close();
});

const register = (url: string) => org.admin('POST', '/api/v1/admin/webhooks', { url, events: ['*'] });

describe('registration refuses private and metadata addresses', () => {
  it('refuses loopback, metadata, private names and plain http, before any connection', async () => {
    records.set('internal.ssrf.test', '10.0.0.1');
    records.set('loop.ssrf.test', '127.0.0.1');
    for (const url of [
      'http://127.0.0.1/hook',
      `https://127.0.0.1:${counter.port}/hook`,
      'http://169.254.169.254/latest/meta-data/',
      'https://169.254.169.254/latest/meta-data/',
      'https://internal.ssrf.test/hook',
      `https://loop.ssrf.test:${counter.port}/hook`,
      'https://[::1]/hook',
      'https://unknown-name.ssrf.test/hook',
      'http://93.184.216.34/hook',
    ]) {
      const res = await register(url);
      expect(res.status, url).toBe(400);
      expect(Object.keys(res.json)).toEqual(expect.arrayContaining(PROBLEM_FIELDS));
      expect(res.json.detail, url).toMatch(/^body\.url refused: /);
    }
    const internal = await register('https://internal.ssrf.test/hook');
    expect(internal.json.detail).toContain('10.0.0.1');
    expect(counter.count()).toBe(0);
    expect((await org.admin('GET', '/api/v1/admin/webhooks')).json.rows).toEqual([]);
  });

  it('checks again at every delivery: a name rebound to 127.0.0.1 is refused without connecting', async () => {
    // Public at registration (no connection is made then: only a DNS answer) ...
    records.set('rebind.ssrf.test', '93.184.216.34');
    const created = await register(`https://rebind.ssrf.test:${counter.port}/hook`);
    expect(created.status, created.text).toBe(201);
    // ... then the name points at the service's own loopback.
    records.set('rebind.ssrf.test', '127.0.0.1');
    const tested = await org.admin('POST', `/api/v1/admin/webhooks/${created.json.id}/test`);
    expect(tested.json).toMatchObject({ delivered: false, status_code: null });
    expect(tested.json.error).toMatch(/^refused: .*127\.0\.0\.1/);
    // A stream delivery is refused the same way.
    await org.engram(null, { statement: 'Rebinding must not reach loopback.', scope: `org:${org.id}` });
    await poll(
      async () => {
        const log = await org.admin('GET', `/api/v1/admin/webhooks/${created.json.id}/deliveries`);
        return (log.json.rows as { event: string; state: string }[]).some(
          (r) => r.event === 'engram.created' && r.state === 'failed',
        );
      },
      15_000,
      'the refused delivery in the log',
    );
    const log = await org.admin('GET', `/api/v1/admin/webhooks/${created.json.id}/deliveries`);
    const refused = (log.json.rows as { event: string; error: string }[]).find(
      (r) => r.event === 'engram.created',
    );
    expect(refused?.error).toMatch(/^refused: /);
    expect(counter.count()).toBe(0);
    // Changing the URL to a private address is refused too.
    const patched = await org.admin('PATCH', `/api/v1/admin/webhooks/${created.json.id}`, {
      url: 'https://169.254.169.254/',
    });
    expect(patched.status).toBe(400);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${created.json.id}`);
  });
});
