import type { Config } from './config.js';
import { WebhookJobs } from './jobs/webhook-jobs.js';
import { startWebhookWorker, type RunningWebhookWorker } from './jobs/webhook-worker.js';
import type { Logger } from './log.js';
import type { AuditLog } from './memory/audit/audit-log.js';
import type { EventLog } from './memory/event-log.js';
import { SecretBox } from './memory/webhooks/secret-box.js';
import { WebhookService } from './memory/webhooks/webhook-service.js';
import { WebhookStore } from './memory/webhooks/webhook-store.js';
import { sendWebhook, type SendSettings } from './net/webhook-sender.js';
import type { RedisClient, RedisFactory } from './redis/clients.js';
import type { Keys } from './redis/keys.js';
import type { Scripts } from './redis/scripts.js';
import { VERSION } from './version.js';

/**
 * The webhook parts every process builds the same way (server and `npm run worker`): the store, the sealed
 * secrets, the producer queue, the sender, the service, and on request the delivery worker.
 */
export interface WebhookRuntime {
  store: WebhookStore;
  jobs: WebhookJobs;
  service: WebhookService;
  startWorker(): RunningWebhookWorker;
  close(): Promise<void>;
}

export interface WebhookRuntimeDeps {
  config: Readonly<Config>;
  log: Logger;
  factory: RedisFactory;
  command: RedisClient;
  scripts: Scripts;
  keys: Keys;
  events: EventLog;
  audit: AuditLog;
  /** The admin key: the secrets' key is derived from it unless MNEMO_WEBHOOK_SECRET_KEY is set. */
  adminKey: string;
}

export function sendSettingsOf(config: Readonly<Config>): SendSettings {
  return {
    allowPrivate: config.allowPrivateUrls,
    dnsServers: config.webhookDnsServers,
    timeoutMs: config.webhookTimeoutMs,
    responseLimitBytes: config.webhookResponseLimitBytes,
    userAgent: `mnemo-webhooks/${VERSION}`,
  };
}

export function openWebhooks(deps: WebhookRuntimeDeps): WebhookRuntime {
  const { config, log } = deps;
  const store = new WebhookStore(deps.command, deps.scripts, deps.keys, deps.events, deps.audit);
  const box = new SecretBox(config.webhookSecretKey ?? deps.adminKey);
  const jobs = new WebhookJobs(
    { connection: deps.factory.create('producer'), prefix: deps.keys.bullPrefix(), log },
    config.webhookAttempts,
  );
  const sendSettings = sendSettingsOf(config);
  const send = (url: string, body: string, headers: Record<string, string>) =>
    sendWebhook(url, body, headers, sendSettings);
  const service = new WebhookService(store, box, deps.audit, jobs, send, {
    maxPerTenant: config.webhookMaxPerTenant,
    secretGraceMs: config.webhookSecretGraceMs,
    deliveryLogSize: config.webhookDeliveryLogSize,
    send: sendSettings,
  });
  return {
    store,
    jobs,
    service,
    startWorker: () =>
      startWebhookWorker(
        { store, box, audit: deps.audit, send, log },
        {
          attempts: config.webhookAttempts,
          retry: { baseMs: config.webhookRetryBaseMs, maxDelayMs: config.webhookRetryMaxDelayMs },
          retryWindowMs: config.webhookRetryWindowMs,
          disableAfterMs: config.webhookDisableAfterMs,
          perWebhookConcurrency: config.webhookConcurrency,
          workerConcurrency: config.webhookWorkerConcurrency,
          timeoutMs: config.webhookTimeoutMs,
          deliveryLogSize: config.webhookDeliveryLogSize,
          gateDelayMs: Math.max(5, Math.min(50, Math.round(config.webhookPollMs / 20))),
        },
        deps.factory.create('bullmq'),
        deps.keys.bullPrefix(),
      ),
    close: () => jobs.close(),
  };
}
