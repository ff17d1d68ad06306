import type { Tenant } from '../../tenant.js';

/**
 * A webhook as stored and as shown. The configuration is one JSON value in the webhook's hash; secrets and
 * health are other fields of that hash (see createWebhook-4.lua), so delivery bookkeeping never rewrites
 * the configuration and no configuration read can carry a secret.
 */
export type WebhookFace = 'engram' | 'layer';

/** Whose reading rights bound what the webhook receives (engram face): the admin key or a user. */
export type WebhookOwner = { type: 'admin' } | { type: 'user'; id: string };

export interface WebhookConfig {
  id: string;
  face: WebhookFace;
  url: string;
  events: string[];
  description: string | null;
  /** Layer face: only events whose data.user_id / data.agent_id equals this. */
  user_id: string | null;
  agent_id: string | null;
  owner: WebhookOwner;
  /** Events with a stream id above this one are delivered (the stream's newest id at registration). */
  from_event: string;
  created_at: string;
  updated_at: string;
}

export interface WebhookHealth {
  active: boolean;
  disabledReason: string | null;
  failingSince: number | null;
  lastSuccessMs: number | null;
  lastFailureMs: number | null;
  /** ms until which the previous secret also signs; null when there is none. */
  previousUntil: number | null;
}

export interface StoredWebhook {
  tenant: Tenant;
  config: WebhookConfig;
  health: WebhookHealth;
  /** Sealed secrets (SecretBox): current, and the previous one while its grace period lasts. */
  sealedSecret: string;
  sealedPrevious: string | null;
}

/** What every face shows of a webhook (never a secret). */
export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  user_id: string | null;
  agent_id: string | null;
  active: boolean;
  disabled_reason: string | null;
  failing_since: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function webhookView(webhook: StoredWebhook, now = Date.now()): WebhookView {
  const { config, health } = webhook;
  return {
    id: config.id,
    url: config.url,
    events: config.events,
    description: config.description,
    user_id: config.user_id,
    agent_id: config.agent_id,
    active: health.active,
    disabled_reason: health.disabledReason,
    failing_since: iso(health.failingSince),
    last_success_at: iso(health.lastSuccessMs),
    last_failure_at: iso(health.lastFailureMs),
    previous_secret_expires_at:
      health.previousUntil !== null && health.previousUntil > now ? iso(health.previousUntil) : null,
    created_at: config.created_at,
    updated_at: config.updated_at,
  };
}

/** One delivery of one event to one webhook, as its log shows it (the latest attempt's outcome). */
export type DeliveryState = 'queued' | 'delivered' | 'retrying' | 'failed' | 'skipped';

export interface DeliveryRecord {
  id: string;
  webhook_id: string;
  /** The envelope's id (wh-evt-<stream id>), the same for every delivery of the event. */
  event_id: string;
  event: string;
  state: DeliveryState;
  /** Attempts made so far. */
  attempt: number;
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
  /** When the next attempt is due (retrying only). */
  next_retry_at: string | null;
  /** The first bytes of the receiver's last answer (at most 256 characters). */
  response_excerpt: string | null;
  redelivery_of: string | null;
  created_at: string;
  updated_at: string;
}
