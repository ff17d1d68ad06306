import { DelayedError, UnrecoverableError, Worker, type Job, type MinimalJob } from 'bullmq';
import type { Logger } from '../log.js';
import type { AuditLog } from '../memory/audit/audit-log.js';
import { SYSTEM_ACTOR } from '../memory/events.js';
import type { SecretBox } from '../memory/webhooks/secret-box.js';
import { signedHeaders } from '../memory/webhooks/signature.js';
import { retryDelayMs, signingSecrets, type RetrySchedule } from '../memory/webhooks/webhook-delivery.js';
import type { DeliveryRecord, StoredWebhook } from '../memory/webhooks/webhook-model.js';
import type { DeliveryJob } from '../memory/webhooks/webhook-queue.js';
import type { ChangeContext, WebhookStore } from '../memory/webhooks/webhook-store.js';
import type { SendResult } from '../net/webhook-sender.js';
import type { RedisClient } from '../redis/clients.js';
import { tenantName } from '../tenant.js';
import { QUEUES } from './queues.js';

/**
 * Sends webhook deliveries. Each attempt first takes one of the webhook's slots (MNEMO_WEBHOOK_CONCURRENCY,
 * shared by every instance); a first attempt also waits for its turn in event order. An attempt that cannot
 * go yet is put back for `gateDelayMs` without using an attempt. 2xx = delivered; 410 disables the webhook at
 * once; anything else is retried with exponential backoff and jitter until the attempts or the retry window
 * run out; a webhook whose every delivery failed for MNEMO_WEBHOOK_DISABLE_AFTER_MS is disabled with the
 * reason. Every attempt is written to the deliveries log.
 */
export interface WebhookWorkerSettings {
  attempts: number;
  retry: RetrySchedule;
  retryWindowMs: number;
  disableAfterMs: number;
  perWebhookConcurrency: number;
  workerConcurrency: number;
  timeoutMs: number;
  deliveryLogSize: number;
  /** How long an attempt that may not go yet waits before asking again. */
  gateDelayMs: number;
}

export interface WebhookWorkerDeps {
  store: WebhookStore;
  box: SecretBox;
  audit: AuditLog;
  send: (url: string, body: string, headers: Record<string, string>) => Promise<SendResult>;
  log: Logger;
}

export interface RunningWebhookWorker {
  close(): Promise<void>;
}

export function startWebhookWorker(
  deps: WebhookWorkerDeps,
  settings: WebhookWorkerSettings,
  connection: RedisClient,
  prefix: string,
): RunningWebhookWorker {
  const worker = new Worker<DeliveryJob>(
    QUEUES.webhook,
    async (job, token) => deliver(deps, settings, job, token),
    {
      connection,
      prefix,
      concurrency: settings.workerConcurrency,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, _err?: Error, job?: MinimalJob) =>
          retryDelayMs(
            settings.retry,
            (job?.data as DeliveryJob | undefined)?.deliveryId ?? '',
            attemptsMade,
          ),
      },
    },
  );
  worker.on('error', (err) => deps.log.warn({ err: err.message, queue: QUEUES.webhook }, 'worker error'));
  return { close: () => worker.close() };
}

async function deliver(
  deps: WebhookWorkerDeps,
  settings: WebhookWorkerSettings,
  job: Job<DeliveryJob>,
  token: string | undefined,
): Promise<string> {
  const { store } = deps;
  const d = job.data;
  const webhook = await store.load(d.tenant, d.webhookId);
  if (!webhook || webhook.config.face !== d.face) {
    await store.releaseSlot(d.tenant, d.webhookId, d.deliveryId, d.queued);
    return 'webhook deleted';
  }
  const attempt = job.attemptsMade + 1;
  const base = baseRecord(job, attempt);
  const system: ChangeContext = { tenant: d.tenant, actor: SYSTEM_ACTOR, audit: null };
  if (!webhook.health.active) {
    await store.releaseSlot(d.tenant, d.webhookId, d.deliveryId, d.queued);
    await store.recordAttempt(
      system,
      d.webhookId,
      { ...base, state: 'skipped', attempt: job.attemptsMade, error: 'webhook disabled' },
      settings.deliveryLogSize,
      '',
      null,
    );
    return 'webhook disabled';
  }
  const ordered = job.attemptsMade === 0 ? d.queued : '';
  const slot = await store.takeSlot(
    d.tenant,
    d.webhookId,
    d.deliveryId,
    settings.perWebhookConcurrency,
    settings.timeoutMs * 2 + 5000,
    ordered,
  );
  if (slot !== 'held') {
    await job.moveToDelayed(Date.now() + settings.gateDelayMs, token);
    throw new DelayedError();
  }
  let result: SendResult;
  try {
    const headers = signedHeaders({
      type: d.type,
      deliveryId: d.deliveryId,
      body: d.body,
      secrets: signingSecrets(webhook, deps.box),
      timestamp: Math.floor(Date.now() / 1000),
    });
    result = await deps.send(webhook.config.url, d.body, headers);
  } finally {
    // After its first attempt a delivery leaves the ordered queue, whatever the outcome.
    await store.releaseSlot(d.tenant, d.webhookId, d.deliveryId, d.queued);
  }
  const now = Date.now();
  const ok = result.error === null;
  const nextDelay = retryDelayMs(settings.retry, d.deliveryId, attempt);
  const disableReason = ok ? null : disableReasonFor(webhook, result, now, settings.disableAfterMs);
  const canRetry =
    !ok &&
    disableReason === null &&
    attempt < settings.attempts &&
    now + nextDelay <= job.timestamp + settings.retryWindowMs;
  const record: DeliveryRecord = {
    ...base,
    state: ok ? 'delivered' : canRetry ? 'retrying' : 'failed',
    status_code: result.statusCode,
    latency_ms: result.latencyMs,
    error: result.error,
    next_retry_at: canRetry ? new Date(now + nextDelay).toISOString() : null,
    response_excerpt: result.excerpt,
  };
  const disable = disableReason === null ? null : disabling(deps.audit, webhook, disableReason, d.deliveryId);
  await store.recordAttempt(
    disable ? { ...system, audit: disable.audit } : system,
    d.webhookId,
    record,
    settings.deliveryLogSize,
    ok ? 'ok' : 'fail',
    disable && { reason: disableReason as string, eventData: disable.eventData },
  );
  if (ok) return `delivered ${result.statusCode}`;
  if (canRetry) throw new Error(result.error ?? 'failed');
  throw new UnrecoverableError(disableReason ?? result.error ?? 'failed');
}

function baseRecord(job: Job<DeliveryJob>, attempt: number): DeliveryRecord {
  const d = job.data;
  return {
    id: d.deliveryId,
    webhook_id: d.webhookId,
    event_id: `wh-evt-${d.streamId}`,
    event: d.type,
    state: 'queued',
    attempt,
    status_code: null,
    latency_ms: null,
    error: null,
    next_retry_at: null,
    response_excerpt: null,
    redelivery_of: d.redeliveryOf,
    created_at: new Date(job.timestamp).toISOString(),
    updated_at: new Date().toISOString(),
  };
}

/** 410 Gone disables at once; a failure streak as long as `disableAfterMs` disables too. */
function disableReasonFor(
  webhook: StoredWebhook,
  result: SendResult,
  now: number,
  disableAfterMs: number,
): string | null {
  if (result.statusCode === 410) return 'the receiver answered 410 Gone';
  const since = webhook.health.failingSince;
  if (since !== null && now - since >= disableAfterMs)
    return `every delivery failed since ${new Date(since).toISOString()} (last: ${result.error ?? 'failed'})`;
  return null;
}

/** The event data and (engram face) the audit entry of a system-side disable. */
function disabling(audit: AuditLog, webhook: StoredWebhook, reason: string, deliveryId: string) {
  const { config } = webhook;
  const entry =
    config.face === 'engram'
      ? audit.entry(
          {
            org: tenantName(webhook.tenant),
            actor: SYSTEM_ACTOR,
            requestId: deliveryId,
            origin: { channel: 'webhook' },
          },
          'webhook.disable',
          { type: 'webhook', id: config.id },
          'success',
          new Date(),
          { reason, delivery_id: deliveryId },
        )
      : null;
  return {
    audit: entry,
    eventData: { id: config.id, url: config.url, active: false, disabled_reason: reason },
  };
}
