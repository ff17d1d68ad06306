import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { silentLogger } from '../../src/log.js';
import { WebhookDispatcher } from '../../src/jobs/webhook-dispatcher.js';
import { AuditLog } from '../../src/memory/audit/audit-log.js';
import { EventLog } from '../../src/memory/event-log.js';
import { SYSTEM_ACTOR } from '../../src/memory/events.js';
import { SecretBox } from '../../src/memory/webhooks/secret-box.js';
import type { DeliveryJob } from '../../src/memory/webhooks/webhook-queue.js';
import { WebhookService, type WebhookCaller } from '../../src/memory/webhooks/webhook-service.js';
import { WebhookStore } from '../../src/memory/webhooks/webhook-store.js';
import { Keys } from '../../src/redis/keys.js';
import { PubSub } from '../../src/redis/pubsub.js';
import { Scripts } from '../../src/redis/scripts.js';
import { layerTenant } from '../../src/tenant.js';

/**
 * The webhook dispatcher against the tests' redis-server, one round at a time, with the store's listing
 * held on purpose: a webhook registered while a round is under way must still get every event written
 * after its registration. (The dispatcher once listed the webhooks before reading the page: a webhook
 * registered between the two missed the page's events for good; CI saw it on the cluster.)
 */
let redis: Redis;
let subscriber: Redis;
let shard: Redis;
let pubsub: PubSub;
const keys = new Keys(`twd${randomHex(4)}`);

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  subscriber = new Redis(inject('redisUrl'));
  shard = new Redis(inject('redisUrl'));
  pubsub = new PubSub(subscriber, silentLogger, shard);
});
afterAll(async () => {
  await Promise.all([redis.quit(), subscriber.quit(), shard.quit()]);
});

describe('webhook dispatcher', () => {
  it('delivers an event to a webhook registered while the round that reads it was under way', async () => {
    const scripts = new Scripts(redis);
    const events = new EventLog(redis, scripts, keys, 100_000);
    const audit = new AuditLog(
      redis,
      keys,
      { maxLen: 1000, maxAgeMs: 86_400_000, ipHashKey: null },
      silentLogger,
    );
    const store = new WebhookStore(redis, scripts, keys, events, audit);
    const enqueued: DeliveryJob[] = [];
    const queue = { enqueue: async (jobs: DeliveryJob[]) => void enqueued.push(...jobs) };
    const service = new WebhookService(
      store,
      new SecretBox(`test-${randomHex(16)}`),
      audit,
      queue,
      async () => {
        throw new Error('no test deliveries here');
      },
      {
        maxPerTenant: 10,
        secretGraceMs: 0,
        deliveryLogSize: 10,
        send: {
          allowPrivate: true,
          dnsServers: [],
          timeoutMs: 1000,
          responseLimitBytes: 1024,
          userAgent: 'test',
        },
      },
    );
    const tenant = layerTenant(`race-${randomHex(4)}`);
    const caller: WebhookCaller = {
      face: 'layer',
      tenant,
      actor: { type: 'api_key', id: 'key_test' },
      owner: { type: 'admin' },
      audit: null,
    };
    const input = (name: string) => ({ url: `http://127.0.0.1:9/${name}`, events: ['memory.*'] });
    const first = await service.create(caller, input('first'));
    await events.append(tenant, SYSTEM_ACTOR, [{ type: 'memory.deleted', data: { id: 'm0' } }]);

    // The round's listing is held; meanwhile a second webhook is registered and an event written.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let listings = 0;
    let heldOnce = false;
    const holding = Object.create(store) as WebhookStore;
    // The first listing is answered as it was when asked, but only after the hold: what a round sees
    // when other work runs between its listing and its read.
    holding.list = async (t) => {
      listings++;
      const listed = await store.list(t);
      if (!heldOnce) {
        heldOnce = true;
        await held;
      }
      return listed;
    };
    const dispatcher = new WebhookDispatcher(
      {
        store: holding,
        events,
        queue,
        pubsub,
        log: silentLogger,
        ownerPrincipal: async () => undefined,
      },
      { pollMs: 60_000, leaseMs: 30_000, pageSize: 200 },
    );
    // One round, called directly (start() runs rounds on a timer; this test must not depend on one).
    const round = (dispatcher as unknown as { dispatch: (t: typeof tenant) => Promise<void> }).dispatch(
      tenant,
    );
    for (let turn = 0; turn < 1000 && listings === 0; turn++) await new Promise((r) => setImmediate(r));
    expect(listings).toBe(1);
    const second = await service.create(caller, input('second'));
    await events.append(tenant, SYSTEM_ACTOR, [{ type: 'memory.deleted', data: { id: 'm1' } }]);
    release();
    await round;
    await dispatcher.close();

    const deliveredTo = (memory: string) =>
      enqueued
        .filter((job) => (JSON.parse(job.body) as { data: { id: string } }).data.id === memory)
        .map((job) => job.webhookId)
        .sort();
    // m0 was written before the second webhook existed: only the first gets it. m1 after both: both.
    expect(deliveredTo('m0')).toEqual([first.id]);
    expect(deliveredTo('m1')).toEqual([first.id, second.id].sort());
  });
});
