import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, PROBLEM_FIELDS, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';
import {
  FAST_WEBHOOKS,
  poll,
  signatureMatches,
  startReceiver,
  type Receiver,
} from '../helpers/webhook-receiver.js';

/**
 * Webhooks on the engram API, end to end: a real receiver on 127.0.0.1, a real server, deliveries through
 * the stream, the dispatcher and BullMQ. Retry delays are a few ms here (MNEMO_WEBHOOK_RETRY_BASE_MS).
 */

let server: TestServer;
let org: Org;
let alice: TestUser;
let boss: TestUser;
let receiver: Receiver;

beforeAll(async () => {
  server = await startEngramServer(FAST_WEBHOOKS);
  org = new Org(server, 'whorg');
  alice = await org.user('alice', 'editor');
  boss = await org.user('boss', 'admin');
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await server?.close();
});

const register = async (body: Record<string, unknown>, as: 'admin' | TestUser = 'admin') => {
  const res =
    as === 'admin'
      ? await org.admin('POST', '/api/v1/admin/webhooks', body)
      : await org.as(as, 'POST', '/api/v1/admin/webhooks', body);
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; secret: string; url: string; events: string[]; active: boolean };
};

const hookUrl = (r: Receiver, path: string) => r.url.replace(/\/hook$/, `/${path}`);

describe('registration', () => {
  it('answers 201 with a generated secret shown once; lists never carry it', async () => {
    const created = await register({
      url: hookUrl(receiver, 'reg'),
      events: ['engram.*'],
      description: 'ci',
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ url: hookUrl(receiver, 'reg'), events: ['engram.*'], active: true });
    const listed = await org.admin('GET', '/api/v1/admin/webhooks');
    expect(listed.status).toBe(200);
    const row = listed.json.rows.find((r: { id: string }) => r.id === created.id);
    expect(row).toBeDefined();
    expect(JSON.stringify(listed.json)).not.toContain(created.secret);
    expect(row).not.toHaveProperty('secret');
    const one = await org.admin('GET', `/api/v1/admin/webhooks/${created.id}`);
    expect(one.text).not.toContain(created.secret);
    // The stored hash holds the secret sealed, never in clear text.
    const stored = await server.services.webhooks['store'].load(`org:${org.id}` as never, created.id);
    expect(stored?.sealedSecret).toMatch(/^v1\./);
    expect(stored?.sealedSecret).not.toContain(created.secret);
    // Its registration is audited and announced.
    const audit = await server.services.audit.recent(org.id, 20);
    expect(audit.find((e) => e.action === 'webhook.create' && e.target.id === created.id)).toBeDefined();
    const events = await server.services.events.read(`org:${org.id}` as never, '0-0', 1000);
    expect(events.events.some((e) => e.type === 'webhook.created' && e.json.includes(created.id))).toBe(true);
    expect(events.events.every((e) => !e.json.includes(created.secret))).toBe(true);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${created.id}`);
  });
});

describe('delivery', () => {
  it('signs the raw body and a timestamp with the secret; the envelope is the PLUR one', async () => {
    const hook = await register({ url: receiver.url, events: ['engram.created'] });
    const engram = await org.engram(null, {
      statement: 'Webhooks carry signed envelopes.',
      scope: `org:${org.id}`,
    });
    const [got] = (await receiver.waitFor((r) => r.some((d) => d.json?.data?.id === engram.id))).filter(
      (d) => d.json?.data?.id === engram.id,
    );
    expect(got).toBeDefined();
    const delivery = got!;
    expect(delivery.headers['x-plur-event']).toBe('engram.created');
    expect(delivery.headers['x-plur-delivery']).toMatch(/^whd_[0-9a-z]{26}$/);
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(signatureMatches(delivery.headers['x-plur-signature'], hook.secret, delivery.raw)).toBe(true);
    expect(signatureMatches(delivery.headers['x-plur-signature'], 'another secret', delivery.raw)).toBe(
      false,
    );
    const ts = delivery.headers['x-plur-timestamp'] as string;
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(300);
    expect(
      signatureMatches(delivery.headers['x-plur-timestamp-signature'], hook.secret, `${ts}.${delivery.raw}`),
    ).toBe(true);
    expect(delivery.json).toMatchObject({
      event: 'engram.created',
      id: expect.stringMatching(/^wh-evt-\d+-\d+$/),
      ts: expect.stringMatching(/^\d{4}-/),
      org: org.id,
      actor: { type: 'admin', id: 'admin-key' },
      data: { id: engram.id, scope: `org:${org.id}` },
    });
    expect(Object.keys(delivery.json).sort()).toEqual(['actor', 'data', 'event', 'id', 'org', 'ts']);
    const log = await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.json.rows[0]).toMatchObject({
      id: delivery.headers['x-plur-delivery'],
      event_id: delivery.json.id,
      event: 'engram.created',
      state: 'delivered',
      attempt: 1,
      status_code: 200,
      error: null,
    });
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });

  it('the test endpoint sends webhook.test now and answers the outcome', async () => {
    const hook = await register({ url: receiver.url, events: ['engram.*'] });
    const res = await org.admin('POST', `/api/v1/admin/webhooks/${hook.id}/test`);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ delivered: true, status_code: 200, error: null });
    const got = receiver.received.find((d) => d.headers['x-plur-delivery'] === res.json.delivery_id);
    expect(got?.json).toMatchObject({ event: 'webhook.test', id: res.json.event_id, org: org.id });
    expect(signatureMatches(got?.headers['x-plur-signature'], hook.secret, got?.raw ?? '')).toBe(true);
    receiver.script([500]);
    const failed = await org.admin('POST', `/api/v1/admin/webhooks/${hook.id}/test`);
    expect(failed.json).toMatchObject({ delivered: false, status_code: 500, error: 'HTTP 500' });
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });

  it('a receiver that fails twice gets the event on the third attempt, with the same delivery id', async () => {
    const hook = await register({ url: receiver.url, events: ['engram.created'] });
    receiver.script([503, 500]);
    const engram = await org.engram(null, { statement: 'Third time lucky.', scope: `org:${org.id}` });
    const mine = (r: typeof receiver.received) => r.filter((d) => d.json?.data?.id === engram.id);
    const three = mine(await receiver.waitFor((r) => mine(r).length >= 3));
    expect(three.map((d) => d.headers['x-plur-delivery'])).toEqual(
      Array(3).fill(three[0]!.headers['x-plur-delivery']),
    );
    expect(new Set(three.map((d) => d.json.id)).size).toBe(1);
    await poll(
      async () => {
        const log = await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}/deliveries`);
        return log.json.rows[0]?.state === 'delivered';
      },
      10_000,
      'the log to say delivered',
    );
    const log = await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}/deliveries`);
    expect(log.json.rows[0]).toMatchObject({ attempt: 3, status_code: 200, state: 'delivered' });
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });

  it('410 Gone disables the webhook at once, says why, audits it; nothing more is sent', async () => {
    const hook = await register({ url: receiver.url, events: ['engram.created'] });
    receiver.script([410]);
    const engram = await org.engram(null, { statement: 'Gone receivers.', scope: `org:${org.id}` });
    await poll(
      async () => {
        const one = await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}`);
        return one.json.active === false;
      },
      10_000,
      'the webhook to be disabled',
    );
    const one = await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}`);
    expect(one.json.disabled_reason).toBe('the receiver answered 410 Gone');
    const audit = await server.services.audit.recent(org.id, 50);
    expect(audit.find((e) => e.action === 'webhook.disable' && e.target.id === hook.id)).toMatchObject({
      channel: 'webhook',
      actor: { type: 'system' },
    });
    const log = await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}/deliveries`);
    expect(log.json.rows[0]).toMatchObject({ state: 'failed', status_code: 410 });
    expect(receiver.received.filter((d) => d.json?.data?.id === engram.id)).toHaveLength(1);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });

  it('delete stops deliveries', async () => {
    const gone = await register({ url: hookUrl(receiver, 'gone'), events: ['engram.created'] });
    const sentinel = await register({ url: hookUrl(receiver, 'sentinel'), events: ['engram.created'] });
    expect((await org.admin('DELETE', `/api/v1/admin/webhooks/${gone.id}`)).json).toEqual({
      id: gone.id,
      deleted: true,
    });
    const engram = await org.engram(null, { statement: 'After the delete.', scope: `org:${org.id}` });
    const seen = (r: typeof receiver.received) => r.filter((d) => d.json?.data?.id === engram.id);
    await receiver.waitFor((r) => seen(r).length >= 1);
    expect(seen(receiver.received).map((d) => d.headers['x-plur-delivery'])).toHaveLength(1);
    expect((await org.admin('GET', `/api/v1/admin/webhooks/${gone.id}`)).status).toBe(404);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${sentinel.id}`);
  });

  it('rotating the secret sends both signatures during the grace period', async () => {
    const hook = await register({ url: receiver.url, events: ['engram.created'] });
    const rotated = await org.admin('PATCH', `/api/v1/admin/webhooks/${hook.id}`, { rotate_secret: true });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(hook.secret);
    expect(rotated.json.previous_secret_expires_at).toMatch(/^\d{4}-/);
    const engram = await org.engram(null, { statement: 'Rotated secrets.', scope: `org:${org.id}` });
    const [got] = (await receiver.waitFor((r) => r.some((d) => d.json?.data?.id === engram.id))).filter(
      (d) => d.json?.data?.id === engram.id,
    );
    expect(signatureMatches(got!.headers['x-plur-signature'], rotated.json.secret, got!.raw)).toBe(true);
    expect(signatureMatches(got!.headers['x-plur-signature'], hook.secret, got!.raw)).toBe(true);
    expect((got!.headers['x-plur-signature'] as string).split(',')).toHaveLength(2);
    const listed = await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}`);
    expect(listed.text).not.toContain(rotated.json.secret);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });

  it('redeliver sends the event again as a new delivery, audited', async () => {
    const hook = await register({ url: receiver.url, events: ['engram.created'] });
    const engram = await org.engram(null, { statement: 'Send it again.', scope: `org:${org.id}` });
    const first = (await receiver.waitFor((r) => r.some((d) => d.json?.data?.id === engram.id))).find(
      (d) => d.json?.data?.id === engram.id,
    )!;
    const deliveryId = first.headers['x-plur-delivery'] as string;
    const again = await org.admin(
      'POST',
      `/api/v1/admin/webhooks/${hook.id}/deliveries/${deliveryId}/redeliver`,
    );
    expect(again.status, again.text).toBe(202);
    expect(again.json).toMatchObject({ state: 'queued', redelivery_of: deliveryId, event_id: first.json.id });
    const copies = await receiver.waitFor((r) => r.filter((d) => d.json?.data?.id === engram.id).length >= 2);
    const second = copies.filter((d) => d.json?.data?.id === engram.id)[1]!;
    expect(second.headers['x-plur-delivery']).toBe(again.json.id);
    expect(second.raw).toBe(first.raw);
    const audit = await server.services.audit.recent(org.id, 50);
    expect(audit.find((e) => e.action === 'webhook.redeliver' && e.target.id === hook.id)).toBeDefined();
    const unknown = await org.admin(
      'POST',
      `/api/v1/admin/webhooks/${hook.id}/deliveries/whd_00000000000000000000000000/redeliver`,
    );
    expect(unknown.status).toBe(404);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });
});

describe('what a webhook may receive', () => {
  it("never an event its owner could not read: another user's personal engram stays out", async () => {
    const hook = await register({ url: hookUrl(receiver, 'perm'), events: ['engram.*'] });
    const personal = await org.engram(alice, { statement: 'Alice keeps this to herself.' });
    const shared = await org.engram(alice, { statement: 'Alice shares this.', scope: `org:${org.id}` });
    await receiver.waitFor((r) => r.some((d) => d.json?.data?.id === shared.id));
    expect(receiver.received.some((d) => d.json?.data?.id === personal.id)).toBe(false);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });

  it("an owner who loses the admin role stops the webhook's deliveries", async () => {
    const owner = await org.user(`owner${Date.now() % 100000}`, 'admin');
    const hook = await register({ url: hookUrl(receiver, 'demoted'), events: ['engram.created'] }, owner);
    const sentinel = await register({
      url: hookUrl(receiver, 'demoted-sentinel'),
      events: ['engram.created'],
    });
    const before = await org.engram(null, { statement: 'Before the demotion.', scope: `org:${org.id}` });
    const ofBefore = (r: typeof receiver.received) => r.filter((d) => d.json?.data?.id === before.id);
    // While an admin, the owner's webhook receives (two deliveries: its own and the sentinel's).
    await receiver.waitFor((r) => ofBefore(r).length >= 2);
    const demote = await org.admin('PATCH', `/api/v1/admin/users/${owner.id}`, { role: 'editor' });
    expect(demote.status, demote.text).toBe(200);
    const engram = await org.engram(null, { statement: 'After the demotion.', scope: `org:${org.id}` });
    await receiver.waitFor((r) => r.some((d) => d.json?.data?.id === engram.id));
    const deliveries = receiver.received.filter((d) => d.json?.data?.id === engram.id);
    expect(deliveries).toHaveLength(1);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${sentinel.id}`);
  });

  it("another organisation's events never reach it", async () => {
    const other = new Org(server, 'whother');
    const hook = await register({ url: hookUrl(receiver, 'iso'), events: ['*'] });
    const foreign = await other.engram(null, { statement: 'Elsewhere.', scope: `org:${other.id}` });
    const mine = await org.engram(null, { statement: 'Here.', scope: `org:${org.id}` });
    await receiver.waitFor((r) => r.some((d) => d.json?.org === org.id && d.json?.data?.id === mine.id));
    // Engram ids are numbered per organisation: compare statements, and the envelope's org.
    expect(foreign.id).toBeDefined();
    expect(receiver.received.some((d) => d.json?.data?.statement === 'Elsewhere.')).toBe(false);
    expect(receiver.received.every((d) => d.json?.org !== other.id)).toBe(true);
    // Its webhooks are not visible or changeable from the other organisation.
    for (const [method, path] of [
      ['GET', `/api/v1/admin/webhooks/${hook.id}`],
      ['PATCH', `/api/v1/admin/webhooks/${hook.id}`],
      ['DELETE', `/api/v1/admin/webhooks/${hook.id}`],
      ['POST', `/api/v1/admin/webhooks/${hook.id}/test`],
      ['GET', `/api/v1/admin/webhooks/${hook.id}/deliveries`],
    ] as const) {
      const res = await other.admin(method, path, method === 'PATCH' ? { active: false } : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(Object.keys(res.json)).toEqual(expect.arrayContaining(PROBLEM_FIELDS));
    }
    expect((await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}`)).json.active).toBe(true);
    expect((await other.admin('GET', '/api/v1/admin/webhooks')).json.rows).toEqual([]);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });
});

describe('bad input and credentials', () => {
  const listIds = async () =>
    ((await org.admin('GET', '/api/v1/admin/webhooks')).json.rows as { id: string }[])
      .map((r) => r.id)
      .sort();

  it('refuses every bad field with a 400 problem and creates nothing', async () => {
    const before = await listIds();
    const good = { url: receiver.url, events: ['engram.*'] };
    const cases: Record<string, unknown>[] = [
      {},
      { events: ['engram.*'] },
      { url: receiver.url },
      { ...good, url: 42 },
      { ...good, url: 'not a url' },
      { ...good, url: 'ftp://example.com/x' },
      { ...good, url: `https://example.com/${'x'.repeat(2100)}` },
      { ...good, url: 'https://user:pw@example.com/hook' },
      { ...good, events: [] },
      { ...good, events: 'engram.*' },
      { ...good, events: ['Engram Created'] },
      { ...good, events: ['engram.'] },
      { ...good, events: [42] },
      { ...good, events: Array.from({ length: 33 }, (_, i) => `e.t${i}`) },
      { ...good, events: ['x'.repeat(65)] },
      { ...good, description: 'd'.repeat(501) },
      { ...good, description: 5 },
      { ...good, description: 'line\nbreak' },
      { ...good, secret: 'short' },
      { ...good, secret: 's'.repeat(257) },
      { ...good, secret: `${'s'.repeat(40)} space` },
      { ...good, secret: 123 },
    ];
    for (const body of cases) {
      const res = await org.admin('POST', '/api/v1/admin/webhooks', body);
      expect(res.status, JSON.stringify(body).slice(0, 120)).toBe(400);
      expect(Object.keys(res.json)).toEqual(expect.arrayContaining(PROBLEM_FIELDS));
    }
    const notJson = await server.request('POST', '/api/v1/admin/webhooks', {
      token: undefined,
      rawBody: '{"url":',
      headers: {
        authorization: `Bearer ${(await import('../helpers/server.js')).ADMIN_KEY}`,
        'x-mnemo-org': org.id,
        'content-type': 'application/json',
      },
    });
    expect(notJson.status).toBe(400);
    expect(await listIds()).toEqual(before);
  });

  it('refuses bad PATCH fields and ids; nothing changes', async () => {
    const hook = await register({ url: receiver.url, events: ['engram.*'] });
    for (const body of [
      { url: 7 },
      { events: [] },
      { active: 'yes' },
      { rotate_secret: 'true' },
      { secret: 'short' },
      { url: 'http://' },
    ]) {
      const res = await org.admin('PATCH', `/api/v1/admin/webhooks/${hook.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await org.admin('PATCH', '/api/v1/admin/webhooks/not-an-id', { active: false })).status).toBe(
      400,
    );
    expect(
      (await org.admin('PATCH', '/api/v1/admin/webhooks/wh_00000000000000000000000000', { active: false }))
        .status,
    ).toBe(404);
    expect((await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}/deliveries?limit=0`)).status).toBe(400);
    expect((await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}/deliveries?limit=x`)).status).toBe(400);
    const after = await org.admin('GET', `/api/v1/admin/webhooks/${hook.id}`);
    expect(after.json).toMatchObject({ url: receiver.url, events: ['engram.*'], active: true });
    await org.admin('DELETE', `/api/v1/admin/webhooks/${hook.id}`);
  });

  it('needs credentials (401) and the admin role (403, audited as denied)', async () => {
    const before = await listIds();
    const body = { url: receiver.url, events: ['engram.*'] };
    expect((await server.request('POST', '/api/v1/admin/webhooks', { body })).status).toBe(401);
    expect((await server.request('GET', '/api/v1/admin/webhooks', { token: 'plur_sk_nope' })).status).toBe(
      401,
    );
    const denied = await org.as(alice, 'POST', '/api/v1/admin/webhooks', body);
    expect(denied.status).toBe(403);
    expect(Object.keys(denied.json)).toEqual(expect.arrayContaining(PROBLEM_FIELDS));
    expect((await org.as(alice, 'GET', '/api/v1/admin/webhooks')).status).toBe(403);
    const audit = await server.services.audit.recent(org.id, 50);
    expect(audit.find((e) => e.action === 'webhook.create' && e.outcome === 'denied')).toBeDefined();
    expect(await listIds()).toEqual(before);
    // An organisation admin user may register; the webhook is theirs.
    const own = await register(body, boss);
    expect(own.active).toBe(true);
    await org.admin('DELETE', `/api/v1/admin/webhooks/${own.id}`);
  });
});
