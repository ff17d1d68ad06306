import { fail } from '../../errors.js';
import { prefixedId, ulid } from '../../ids.js';
import { assertPublicUrl, OutboundUrlRefused } from '../../net/outbound-url.js';
import type { SendResult, SendSettings } from '../../net/webhook-sender.js';
import { tenantName, type Tenant } from '../../tenant.js';
import type { AuditContext, AuditLog } from '../audit/audit-log.js';
import type { Actor } from '../events.js';
import { generateWebhookSecret, type SecretBox } from './secret-box.js';
import { signedHeaders } from './signature.js';
import { signingSecrets, webhookEnvelope } from './webhook-delivery.js';
import { WEBHOOK_TEST_EVENT } from './webhook-events.js';
import {
  webhookView,
  type DeliveryRecord,
  type StoredWebhook,
  type WebhookConfig,
  type WebhookFace,
  type WebhookOwner,
  type WebhookView,
} from './webhook-model.js';
import type { WebhookQueue } from './webhook-queue.js';
import type { ChangeContext, WebhookStore } from './webhook-store.js';

/**
 * Registering and managing webhooks, for both faces: the engram API's organisation admins
 * (/api/v1/admin/webhooks, audited) and the layer API's workspace keys (/v1/webhooks). The tenant comes from
 * the caller; a webhook of another tenant answers exactly like a missing one.
 */
export interface WebhookCaller {
  face: WebhookFace;
  tenant: Tenant;
  actor: Actor;
  owner: WebhookOwner;
  /** Engram face: where audit entries come from; null on the layer face. */
  audit: AuditContext | null;
}

export interface WebhookInput {
  url: string;
  events: string[];
  description?: string | null | undefined;
  secret?: string | undefined;
  user_id?: string | null | undefined;
  agent_id?: string | null | undefined;
}

export interface WebhookPatch {
  url?: string | undefined;
  events?: string[] | undefined;
  description?: string | null | undefined;
  active?: boolean | undefined;
  rotate_secret?: boolean | undefined;
  secret?: string | undefined;
  user_id?: string | null | undefined;
  agent_id?: string | null | undefined;
}

export interface WebhookSettings {
  maxPerTenant: number;
  secretGraceMs: number;
  deliveryLogSize: number;
  send: SendSettings;
}

export interface TestOutcome {
  delivered: boolean;
  delivery_id: string;
  event_id: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

type Sender = (url: string, body: string, headers: Record<string, string>) => Promise<SendResult>;

export class WebhookService {
  constructor(
    private readonly store: WebhookStore,
    private readonly box: SecretBox,
    private readonly audit: AuditLog,
    private readonly queue: WebhookQueue,
    private readonly send: Sender,
    private readonly settings: WebhookSettings,
  ) {}

  private ctx(
    caller: WebhookCaller,
    action: string,
    targetId: string,
    payload?: Record<string, unknown>,
  ): ChangeContext {
    return {
      tenant: caller.tenant,
      actor: caller.actor,
      audit: caller.audit
        ? this.audit.entry(
            caller.audit,
            action,
            { type: 'webhook', id: targetId },
            'success',
            new Date(),
            payload ?? null,
          )
        : null,
    };
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await assertPublicUrl(url, this.settings.send);
    } catch (err) {
      if (err instanceof OutboundUrlRefused) throw fail.validation(`body.url refused: ${err.message}`);
      throw err;
    }
  }

  private async owned(caller: WebhookCaller, id: string): Promise<StoredWebhook> {
    const found = await this.store.load(caller.tenant, id);
    if (!found || found.config.face !== caller.face) throw fail.notFound(`Webhook ${id} not found`);
    return found;
  }

  async list(caller: WebhookCaller): Promise<WebhookView[]> {
    const now = Date.now();
    return (await this.store.list(caller.tenant))
      .filter((w) => w.config.face === caller.face)
      .map((w) => webhookView(w, now));
  }

  async get(caller: WebhookCaller, id: string): Promise<WebhookView> {
    return webhookView(await this.owned(caller, id));
  }

  /** Registers a webhook; the answer carries its secret, the only time it is shown. */
  async create(caller: WebhookCaller, input: WebhookInput): Promise<WebhookView & { secret: string }> {
    await this.checkUrl(input.url);
    const now = new Date().toISOString();
    const config: WebhookConfig = {
      id: prefixedId('wh'),
      face: caller.face,
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description ?? null,
      user_id: input.user_id ?? null,
      agent_id: input.agent_id ?? null,
      owner: caller.owner,
      from_event: await this.store.lastEventId(caller.tenant),
      created_at: now,
      updated_at: now,
    };
    const secret = input.secret ?? generateWebhookSecret();
    const stored: StoredWebhook = {
      tenant: caller.tenant,
      config,
      health: {
        active: true,
        disabledReason: null,
        failingSince: null,
        lastSuccessMs: null,
        lastFailureMs: null,
        previousUntil: null,
      },
      sealedSecret: this.box.seal(secret),
      sealedPrevious: null,
    };
    const view = webhookView(stored);
    // Announced first: a dispatcher that learns of the tenant before the webhook exists simply finds none.
    await this.store.announceTenant(caller.tenant);
    const created = await this.store.create(
      this.ctx(caller, 'webhook.create', config.id, { url: config.url, events: config.events }),
      config,
      stored.sealedSecret,
      this.settings.maxPerTenant,
      view,
    );
    if (created === 'limit')
      throw fail.conflict(
        `This ${caller.face === 'engram' ? 'organisation' : 'workspace'} already has ${this.settings.maxPerTenant} webhooks`,
      );
    return { ...view, secret };
  }

  /** Changes a webhook; a rotation answers the new secret once (the old one signs on for the grace period). */
  async update(
    caller: WebhookCaller,
    id: string,
    patch: WebhookPatch,
  ): Promise<WebhookView & { secret?: string }> {
    const current = await this.owned(caller, id);
    if (patch.url !== undefined) await this.checkUrl(patch.url);
    const configChanged =
      patch.url !== undefined ||
      patch.events !== undefined ||
      patch.description !== undefined ||
      patch.user_id !== undefined ||
      patch.agent_id !== undefined;
    const now = Date.now();
    const config: WebhookConfig = {
      ...current.config,
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.events !== undefined ? { events: [...new Set(patch.events)] } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.user_id !== undefined ? { user_id: patch.user_id } : {}),
      ...(patch.agent_id !== undefined ? { agent_id: patch.agent_id } : {}),
      updated_at: new Date(now).toISOString(),
    };
    const rotate = patch.rotate_secret === true || patch.secret !== undefined;
    const secret = rotate ? (patch.secret ?? generateWebhookSecret()) : undefined;
    const previousUntil = now + this.settings.secretGraceMs;
    const active =
      patch.active !== undefined && patch.active !== current.health.active ? patch.active : undefined;
    const next: StoredWebhook = {
      ...current,
      config,
      health: {
        ...current.health,
        ...(active === true ? { active: true, disabledReason: null, failingSince: null } : {}),
        ...(active === false ? { active: false, disabledReason: 'disabled by an administrator' } : {}),
        ...(rotate ? { previousUntil } : {}),
      },
    };
    const view = webhookView(next, now);
    const eventType = configChanged
      ? 'webhook.updated'
      : active === true
        ? 'webhook.enabled'
        : active === false
          ? 'webhook.disabled'
          : rotate
            ? 'webhook.secret_rotated'
            : 'webhook.updated';
    const changed = await this.store.update(
      this.ctx(caller, 'webhook.update', id, {
        fields: Object.keys(patch).filter((k) => k !== 'secret'),
        ...(rotate ? { secret_rotated: true } : {}),
      }),
      id,
      {
        ...(configChanged ? { config } : {}),
        ...(active !== undefined
          ? { active: { value: active, reason: 'disabled by an administrator' } }
          : {}),
        ...(secret !== undefined ? { rotation: { sealedSecret: this.box.seal(secret), previousUntil } } : {}),
        eventType,
        eventData: view,
      },
    );
    if (!changed) throw fail.notFound(`Webhook ${id} not found`);
    return secret === undefined ? view : { ...view, secret };
  }

  async remove(caller: WebhookCaller, id: string): Promise<void> {
    const current = await this.owned(caller, id);
    const deleted = await this.store.delete(
      this.ctx(caller, 'webhook.delete', id, { url: current.config.url }),
      id,
      {
        id,
        url: current.config.url,
      },
    );
    if (!deleted) throw fail.notFound(`Webhook ${id} not found`);
  }

  /** Sends a webhook.test event now (not through the stream or the queue) and answers its outcome. */
  async test(caller: WebhookCaller, id: string): Promise<TestOutcome> {
    const webhook = await this.owned(caller, id);
    const deliveryId = prefixedId('whd');
    const eventId = `wh-evt-test-${ulid()}`;
    const ts = new Date().toISOString();
    const body = JSON.stringify({
      event: WEBHOOK_TEST_EVENT,
      id: eventId,
      ts,
      [caller.face === 'engram' ? 'org' : 'workspace']: tenantName(caller.tenant),
      actor: { type: caller.actor.type, id: caller.actor.id },
      data: { webhook_id: id, message: 'This is a test delivery from mnemo.' },
    });
    const headers = signedHeaders({
      type: WEBHOOK_TEST_EVENT,
      deliveryId,
      body,
      secrets: signingSecrets(webhook, this.box),
      timestamp: Math.floor(Date.now() / 1000),
    });
    const result = await this.send(webhook.config.url, body, headers);
    const delivered = result.error === null;
    const record: DeliveryRecord = {
      id: deliveryId,
      webhook_id: id,
      event_id: eventId,
      event: WEBHOOK_TEST_EVENT,
      state: delivered ? 'delivered' : 'failed',
      attempt: 1,
      status_code: result.statusCode,
      latency_ms: result.latencyMs,
      error: result.error,
      next_retry_at: null,
      response_excerpt: result.excerpt,
      redelivery_of: null,
      created_at: ts,
      updated_at: new Date().toISOString(),
    };
    await this.store.recordAttempt(
      { tenant: caller.tenant, actor: caller.actor, audit: null },
      id,
      record,
      this.settings.deliveryLogSize,
      '',
      null,
    );
    return {
      delivered,
      delivery_id: deliveryId,
      event_id: eventId,
      status_code: result.statusCode,
      latency_ms: result.latencyMs,
      error: result.error,
    };
  }

  async deliveries(caller: WebhookCaller, id: string, limit: number): Promise<DeliveryRecord[]> {
    await this.owned(caller, id);
    return this.store.deliveries(caller.tenant, id, limit);
  }

  /** Queues the event of an earlier delivery again, as a new delivery (a new id, not ordered). */
  async redeliver(caller: WebhookCaller, id: string, deliveryId: string): Promise<DeliveryRecord> {
    const webhook = await this.owned(caller, id);
    const original = await this.store.delivery(caller.tenant, id, deliveryId);
    if (!original) throw fail.notFound(`Delivery ${deliveryId} not found`);
    if (original.event === WEBHOOK_TEST_EVENT)
      throw fail.conflict('A test delivery cannot be redelivered: send a new one with POST .../test');
    const streamId = original.event_id.replace(/^wh-evt-/, '');
    const stored = await this.store.eventById(caller.tenant, streamId);
    if (stored === undefined)
      throw fail.conflict(`The event ${original.event_id} is no longer kept in the event stream`);
    const envelope = webhookEnvelope(webhook.config.face, stored);
    const now = new Date().toISOString();
    const record: DeliveryRecord = {
      ...original,
      id: prefixedId('whd'),
      state: 'queued',
      attempt: 0,
      status_code: null,
      latency_ms: null,
      error: null,
      next_retry_at: null,
      response_excerpt: null,
      redelivery_of: deliveryId,
      created_at: now,
      updated_at: now,
    };
    const logged = await this.store.logRedelivery(
      this.ctx(caller, 'webhook.redeliver', id, { delivery_id: record.id, redelivery_of: deliveryId }),
      id,
      record,
      this.settings.deliveryLogSize,
      { webhook_id: id, delivery_id: record.id, redelivery_of: deliveryId, event_id: original.event_id },
    );
    if (!logged) throw fail.notFound(`Webhook ${id} not found`);
    await this.queue.enqueue([
      {
        tenant: caller.tenant,
        face: webhook.config.face,
        webhookId: id,
        deliveryId: record.id,
        streamId,
        type: envelope.type,
        body: envelope.body,
        queued: '',
        redeliveryOf: deliveryId,
      },
    ]);
    return record;
  }
}
