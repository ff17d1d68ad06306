import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import type { Scripts } from '../../redis/scripts.js';
import type { Tenant } from '../../tenant.js';
import type { AuditEntry, AuditLog } from '../audit/audit-log.js';
import type { EventLog } from '../event-log.js';
import type { Actor } from '../events.js';
import type { DeliveryRecord, StoredWebhook, WebhookConfig } from './webhook-model.js';

/**
 * Redis access of webhooks: reads, and the typed wrappers of their Lua scripts (lua/*Webhook*.lua). Every
 * change is one script that also appends its event and (engram face) its audit entry.
 */
const num = (value: string | undefined): number | null =>
  value === undefined || value === '' ? null : Number(value);

function parseWebhook(tenant: Tenant, hash: Record<string, string>): StoredWebhook | undefined {
  if (!hash.config || !hash.secret) return undefined;
  let config: WebhookConfig;
  try {
    config = JSON.parse(hash.config) as WebhookConfig;
  } catch {
    return undefined;
  }
  const previousUntil = num(hash.prev_until);
  return {
    tenant,
    config,
    health: {
      active: hash.active === '1',
      disabledReason: hash.disabled_reason ?? null,
      failingSince: num(hash.failing_since),
      lastSuccessMs: num(hash.last_success_ms),
      lastFailureMs: num(hash.last_failure_ms),
      previousUntil,
    },
    sealedSecret: hash.secret,
    sealedPrevious: hash.prev_secret ? hash.prev_secret : null,
  };
}

export interface ChangeContext {
  tenant: Tenant;
  actor: Actor;
  /** The audit entry (engram face) or null (layer face: no audit trail of its own). */
  audit: AuditEntry | null;
}

export class WebhookStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    readonly keys: Keys,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
  ) {}

  async load(tenant: Tenant, id: string): Promise<StoredWebhook | undefined> {
    return parseWebhook(tenant, await this.redis.hgetall(this.keys.webhook(tenant, id)));
  }

  /** Every webhook of the tenant, oldest first. */
  async list(tenant: Tenant): Promise<StoredWebhook[]> {
    const ids = await this.redis.zrange(this.keys.webhookIds(tenant), '0', '-1');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.webhook(tenant, id));
    const replies = (await pipeline.exec()) ?? [];
    const out: StoredWebhook[] = [];
    for (const [err, hash] of replies) {
      if (err) throw err;
      const parsed = parseWebhook(tenant, hash as Record<string, string>);
      if (parsed) out.push(parsed);
    }
    return out;
  }

  /** Announces the tenant to dispatchers (idempotent; done before the webhook exists, so none is missed). */
  async announceTenant(tenant: Tenant): Promise<void> {
    await this.redis.sadd(this.keys.webhookTenants(), tenant);
  }

  async tenants(): Promise<Tenant[]> {
    return (await this.redis.smembers(this.keys.webhookTenants())) as Tenant[];
  }

  private head(ctx: ChangeContext): string[] {
    return this.events.contextArgs(ctx.tenant, ctx.actor);
  }

  private auditArgs(ctx: ChangeContext): string[] {
    return [ctx.audit ? JSON.stringify(ctx.audit) : '', String(this.audit.maxLen)];
  }

  /** 'created', or 'limit' when the tenant has `max` webhooks already. */
  async create(
    ctx: ChangeContext,
    config: WebhookConfig,
    sealedSecret: string,
    max: number,
    eventData: unknown,
  ): Promise<'created' | 'limit'> {
    const { tenant } = ctx;
    const reply = await this.scripts
      .run(
        'createWebhook',
        [
          this.keys.webhookIds(tenant),
          this.keys.webhook(tenant, config.id),
          this.keys.eventStream(tenant),
          this.keys.audit(tenant),
        ],
        [
          ...this.head(ctx),
          config.id,
          String(Date.parse(config.created_at)),
          JSON.stringify(config),
          sealedSecret,
          String(max),
          JSON.stringify(eventData),
          ...this.auditArgs(ctx),
        ],
      )
      .catch((err: unknown) => {
        if (err instanceof Error && 'kind' in err && err.kind === 'limit_exceeded') return 'limit';
        throw err;
      });
    return reply === 'limit' ? 'limit' : 'created';
  }

  /** False when the webhook does not exist. */
  async update(
    ctx: ChangeContext,
    id: string,
    change: {
      config?: WebhookConfig;
      active?: { value: boolean; reason: string };
      rotation?: { sealedSecret: string; previousUntil: number };
      eventType: string;
      eventData: unknown;
    },
  ): Promise<boolean> {
    const { tenant } = ctx;
    const reply = await this.scripts
      .run<number>(
        'updateWebhook',
        [this.keys.webhook(tenant, id), this.keys.eventStream(tenant), this.keys.audit(tenant)],
        [
          ...this.head(ctx),
          change.config ? JSON.stringify(change.config) : '',
          change.active === undefined ? '' : change.active.value ? '1' : '0',
          change.active?.reason ?? '',
          change.rotation?.sealedSecret ?? '',
          String(change.rotation?.previousUntil ?? 0),
          change.eventType,
          JSON.stringify(change.eventData),
          ...this.auditArgs(ctx),
        ],
      )
      .catch(notFoundAs(0));
    return reply === 1;
  }

  /** False when the webhook does not exist. */
  async delete(ctx: ChangeContext, id: string, eventData: unknown): Promise<boolean> {
    const { tenant } = ctx;
    const reply = await this.scripts
      .run<number>(
        'deleteWebhook',
        [
          this.keys.webhookIds(tenant),
          this.keys.webhook(tenant, id),
          this.keys.webhookDeliveries(tenant, id),
          this.keys.webhookDeliveryIndex(tenant, id),
          this.keys.webhookInflight(tenant, id),
          this.keys.webhookPending(tenant),
          this.keys.eventStream(tenant),
          this.keys.audit(tenant),
        ],
        [...this.head(ctx), id, JSON.stringify(eventData), ...this.auditArgs(ctx)],
      )
      .catch(notFoundAs(0));
    return reply === 1;
  }

  /**
   * Records an attempt; with a disable reason an active webhook is disabled (once). Answers 'recorded',
   * 'disabled' (this call disabled it) or 'gone' (the webhook was deleted).
   */
  async recordAttempt(
    ctx: ChangeContext,
    webhookId: string,
    delivery: DeliveryRecord,
    logSize: number,
    outcome: 'ok' | 'fail' | '',
    disable: { reason: string; eventData: unknown } | null,
  ): Promise<'recorded' | 'disabled' | 'gone'> {
    const { tenant } = ctx;
    const reply = await this.scripts
      .run<number>('recordWebhookAttempt', this.logKeys(tenant, webhookId), [
        ...this.head(ctx),
        delivery.id,
        JSON.stringify(delivery),
        String(Date.parse(delivery.created_at)),
        String(logSize),
        outcome,
        String(Date.now()),
        disable?.reason ?? '',
        JSON.stringify(disable?.eventData ?? null),
        ...this.auditArgs(ctx),
      ])
      .catch(notFoundAs(-1));
    return reply === 2 ? 'disabled' : reply === 1 ? 'recorded' : 'gone';
  }

  /** Logs a redelivery (queued) with its event and audit entry; false when the webhook does not exist. */
  async logRedelivery(
    ctx: ChangeContext,
    webhookId: string,
    delivery: DeliveryRecord,
    logSize: number,
    eventData: unknown,
  ): Promise<boolean> {
    const reply = await this.scripts
      .run<number>('redeliverWebhook', this.logKeys(ctx.tenant, webhookId), [
        ...this.head(ctx),
        delivery.id,
        JSON.stringify(delivery),
        String(Date.parse(delivery.created_at)),
        String(logSize),
        JSON.stringify(eventData),
        ...this.auditArgs(ctx),
      ])
      .catch(notFoundAs(0));
    return reply === 1;
  }

  private logKeys(tenant: Tenant, webhookId: string): string[] {
    return [
      this.keys.webhook(tenant, webhookId),
      this.keys.webhookDeliveries(tenant, webhookId),
      this.keys.webhookDeliveryIndex(tenant, webhookId),
      this.keys.eventStream(tenant),
      this.keys.audit(tenant),
    ];
  }

  /** The newest event id of the tenant's stream ('0-0' when empty). */
  lastEventId(tenant: Tenant): Promise<string> {
    return this.events.lastId(tenant);
  }

  /** One event of the tenant's stream as its envelope JSON, or undefined when it is not (or no longer) kept. */
  async eventById(tenant: Tenant, streamId: string): Promise<string | undefined> {
    const page = await this.events.readNew(tenant, predecessor(streamId), 1);
    const event = page?.events[0];
    return event && event.id === streamId ? event.json : undefined;
  }

  /** The newest deliveries of a webhook, newest first. */
  async deliveries(tenant: Tenant, webhookId: string, limit: number): Promise<DeliveryRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.webhookDeliveryIndex(tenant, webhookId), 0, limit - 1);
    if (ids.length === 0) return [];
    const rows = await this.redis.hmget(this.keys.webhookDeliveries(tenant, webhookId), ...ids);
    return rows.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as DeliveryRecord]));
  }

  async delivery(tenant: Tenant, webhookId: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const raw = await this.redis.hget(this.keys.webhookDeliveries(tenant, webhookId), deliveryId);
    return raw === null ? undefined : (JSON.parse(raw) as DeliveryRecord);
  }

  // --- dispatch: lease, cursor, ordered first attempts, slots ------------------------------------------
  async takeLease(tenant: Tenant, owner: string, ttlMs: number): Promise<boolean> {
    const held = await this.scripts.run<number>(
      'webhookLease',
      [this.keys.webhookLease(tenant)],
      [owner, ttlMs, 'take'],
    );
    return held === 1;
  }

  async releaseLease(tenant: Tenant, owner: string): Promise<void> {
    await this.scripts.run('webhookLease', [this.keys.webhookLease(tenant)], [owner, 1, 'release']);
  }

  async cursor(tenant: Tenant): Promise<string | null> {
    return this.redis.get(this.keys.webhookCursor(tenant));
  }

  /** False when the lease is no longer `owner`'s (nothing changed). */
  async advance(tenant: Tenant, owner: string, cursor: string, queued: string[]): Promise<boolean> {
    const reply = await this.scripts.run<number>(
      'advanceWebhookCursor',
      [this.keys.webhookLease(tenant), this.keys.webhookCursor(tenant), this.keys.webhookPending(tenant)],
      [owner, cursor, ...queued],
    );
    return reply === 1;
  }

  /** 'held', 'busy' (wait for a slot or the attempt's turn) or 'unqueued' (its dispatcher has not advanced). */
  async takeSlot(
    tenant: Tenant,
    webhookId: string,
    deliveryId: string,
    limit: number,
    holdMs: number,
    queuedMember: string,
  ): Promise<'held' | 'busy' | 'unqueued'> {
    const now = Date.now();
    const reply = await this.scripts.run<number>(
      'takeWebhookSlot',
      [this.keys.webhookInflight(tenant, webhookId), this.keys.webhookPending(tenant)],
      [now, now + holdMs, limit, deliveryId, `[${webhookId}|`, `(${webhookId}}`, queuedMember],
    );
    return reply === 1 ? 'held' : reply === 2 ? 'unqueued' : 'busy';
  }

  async releaseSlot(
    tenant: Tenant,
    webhookId: string,
    deliveryId: string,
    queuedMember: string,
  ): Promise<void> {
    await this.scripts.run(
      'releaseWebhookSlot',
      [this.keys.webhookInflight(tenant, webhookId), this.keys.webhookPending(tenant)],
      [deliveryId, queuedMember],
    );
  }
}

/** The stream id just before `id` (readNew reads strictly after its argument). */
function predecessor(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  if (Number(seq) > 0) return `${ms}-${Number(seq) - 1}`;
  return Number(ms) > 0 ? `${Number(ms) - 1}-18446744073709551615` : '0-0';
}

const notFoundAs =
  (value: number) =>
  (err: unknown): number => {
    if (err instanceof Error && 'kind' in err && err.kind === 'not_found') return value;
    throw err;
  };
