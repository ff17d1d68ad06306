import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import {
  FAST_WEBHOOKS,
  poll,
  signatureMatches,
  startReceiver,
  type Receiver,
} from '../helpers/webhook-receiver.js';

/**
 * Webhooks on the layer API (/v1/webhooks): a workspace key registers deliveries of its workspace's memory
 * events, optionally of one user_id; another workspace's events and webhooks stay out of reach. Also: first
 * attempts of one webhook arrive in event order, and a day (here: a few ms) of failures disables it.
 */
let server: TestServer;
let receiver: Receiver;
let key: string;
let otherKey: string;
let workspace: string;

beforeAll(async () => {
  server = await startServer({ ...FAST_WEBHOOKS, webhookDisableAfterMs: 200 });
  receiver = await startReceiver();
  workspace = uniqueWorkspace('whl');
  key = await createLayerKey(server, workspace);
  otherKey = await createLayerKey(server, uniqueWorkspace('whl-other'));
});
afterAll(async () => {
  await receiver?.close();
  await server?.close();
});

const call = (method: string, path: string, body?: unknown, token = key) =>
  server.request(method, path, { token, ...(body === undefined ? {} : { body }) });
const remember = (content: string, user_id: string, token = key) =>
  call('POST', '/v1/remember', { content, user_id, agent_id: 'bot' }, token);
const carrying = (text: string) => (r: Receiver['received']) =>
  r.filter((d) => JSON.stringify(d.json?.data ?? {}).includes(text));

describe('/v1/webhooks', () => {
  it('delivers memory events of the workspace, filtered by user_id, signed, in the layer envelope', async () => {
    const created = await call('POST', '/v1/webhooks', {
      url: receiver.url,
      events: ['memory.*'],
      user_id: 'alice',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({
      user_id: 'alice',
      agent_id: null,
      events: ['memory.*'],
      active: true,
    });
    expect(created.json.secret).toMatch(/^whsec_/);
    await remember('Bob likes tea', 'bob');
    await remember('Alice likes coffee', 'alice');
    const got = carrying('Alice likes coffee')(
      await receiver.waitFor((r) => carrying('Alice likes coffee')(r).length > 0),
    );
    const first = got[0]!;
    expect(first.json).toMatchObject({ workspace, event: expect.stringMatching(/^memory\./) });
    expect(first.json).not.toHaveProperty('org');
    expect(signatureMatches(first.headers['x-plur-signature'], created.json.secret, first.raw)).toBe(true);
    expect(carrying('Bob likes tea')(receiver.received)).toEqual([]);
    const listed = await call('GET', '/v1/webhooks');
    expect(listed.json.webhooks.map((w: { id: string }) => w.id)).toContain(created.json.id);
    expect(listed.text).not.toContain(created.json.secret);
    const log = await call('GET', `/v1/webhooks/${created.json.id}/deliveries`);
    expect(log.json.deliveries.length).toBeGreaterThan(0);
    await call('DELETE', `/v1/webhooks/${created.json.id}`);
  });

  it("another workspace's events and webhooks are out of reach", async () => {
    const mine = await call('POST', '/v1/webhooks', { url: receiver.url, events: ['*'] });
    await remember('Other workspace secret', 'eve', otherKey);
    await remember('Own workspace note', 'eve');
    await receiver.waitFor((r) => carrying('Own workspace note')(r).length > 0);
    expect(carrying('Other workspace secret')(receiver.received)).toEqual([]);
    for (const [method, path] of [
      ['GET', `/v1/webhooks/${mine.json.id}`],
      ['PATCH', `/v1/webhooks/${mine.json.id}`],
      ['DELETE', `/v1/webhooks/${mine.json.id}`],
      ['POST', `/v1/webhooks/${mine.json.id}/test`],
      ['GET', `/v1/webhooks/${mine.json.id}/deliveries`],
    ] as const) {
      const res = await call(method, path, method === 'PATCH' ? { active: false } : undefined, otherKey);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json).toEqual({ detail: expect.any(String), status: 404 });
    }
    expect((await call('GET', `/v1/webhooks/${mine.json.id}`)).json.active).toBe(true);
    await call('DELETE', `/v1/webhooks/${mine.json.id}`);
  });

  it('first attempts of one webhook arrive in event order', async () => {
    const hook = await call('POST', '/v1/webhooks', { url: receiver.url, events: ['memory.working.added'] });
    const texts = Array.from({ length: 12 }, (_, i) => `ordered note ${i}`);
    for (const text of texts) await remember(text, 'olga');
    const ours = (r: Receiver['received']) =>
      r.filter(
        (d) => typeof d.json?.data?.content === 'string' && d.json.data.content.startsWith('ordered note '),
      );
    await receiver.waitFor((r) => ours(r).length >= texts.length);
    expect(ours(receiver.received).map((d) => d.json.data.content)).toEqual(texts);
    await call('DELETE', `/v1/webhooks/${hook.json.id}`);
  });

  it('a webhook whose every delivery failed for MNEMO_WEBHOOK_DISABLE_AFTER_MS is disabled with the reason', async () => {
    const hook = await call('POST', '/v1/webhooks', { url: receiver.url, events: ['memory.working.added'] });
    receiver.script([], 500);
    try {
      await remember('failing delivery one', 'fay');
      await poll(
        async () => (await call('GET', `/v1/webhooks/${hook.json.id}`)).json.failing_since !== null,
        10_000,
        'a failure streak',
      );
      // A later failure, past the (shortened) day, disables.
      const since = Date.parse((await call('GET', `/v1/webhooks/${hook.json.id}`)).json.failing_since);
      await poll(() => Date.now() - since > 250, 5000, 'the shortened day to pass');
      await remember('failing delivery two', 'fay');
      await poll(
        async () => (await call('GET', `/v1/webhooks/${hook.json.id}`)).json.active === false,
        15_000,
        'the disable',
      );
    } finally {
      receiver.script([], 200);
    }
    const after = await call('GET', `/v1/webhooks/${hook.json.id}`);
    expect(after.json.disabled_reason).toMatch(/^every delivery failed since /);
    // Re-enabling clears the reason and the streak.
    const enabled = await call('PATCH', `/v1/webhooks/${hook.json.id}`, { active: true });
    expect(enabled.json).toMatchObject({ active: true, disabled_reason: null, failing_since: null });
    await call('DELETE', `/v1/webhooks/${hook.json.id}`);
  });

  it('bad input and credentials: documented error body, nothing created', async () => {
    const before = (await call('GET', '/v1/webhooks')).json.webhooks.length;
    for (const body of [
      {},
      { url: receiver.url, events: ['memory.*'], user_id: 'bad id with spaces' },
      { url: receiver.url, events: ['memory.*'], agent_id: 7 },
      { url: receiver.url, events: ['memory.*'], user_id: 'x'.repeat(200) },
      { url: receiver.url, events: ['*', 'memory..x'] },
      { url: ['x'], events: ['memory.*'] },
    ]) {
      const res = await call('POST', '/v1/webhooks', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json).toEqual({ detail: expect.any(String), status: 400 });
    }
    expect((await server.request('GET', '/v1/webhooks')).status).toBe(401);
    expect((await server.request('POST', '/v1/webhooks', { token: 'plm_live_nope', body: {} })).status).toBe(
      401,
    );
    expect((await call('GET', '/v1/webhooks/wh_00000000000000000000000000')).status).toBe(404);
    expect((await call('GET', '/v1/webhooks/../admin')).status).toBeGreaterThanOrEqual(400);
    expect((await call('GET', '/v1/webhooks')).json.webhooks.length).toBe(before);
  });
});
