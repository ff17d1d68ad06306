import { Type } from '@sinclair/typebox';
import { EVENT_PATTERN } from '../../memory/webhooks/webhook-events.js';
import { Nullable, StringEnum, Timestamp } from '../schemas.js';

/** Schemas shared by the webhook routes of both faces (engram: admin-webhooks.ts, layer: webhooks.ts). */
export const WEBHOOK_LIMITS = {
  urlChars: 2048,
  events: 32,
  eventChars: 64,
  descriptionChars: 500,
  secretMinChars: 32,
  secretMaxChars: 256,
} as const;

export const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: WEBHOOK_LIMITS.urlChars,
  pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$',
  description:
    'https URL (http only with MNEMO_ALLOW_PRIVATE_URLS=true); its host must resolve to public addresses',
});

export const WebhookEvents = Type.Array(
  Type.String({ minLength: 1, maxLength: WEBHOOK_LIMITS.eventChars, pattern: EVENT_PATTERN }),
  {
    minItems: 1,
    maxItems: WEBHOOK_LIMITS.events,
    description:
      'Event types: exact (engram.created), a family (engram.*) or * (everything the owner may read)',
  },
);

export const WebhookSecret = Type.String({
  minLength: WEBHOOK_LIMITS.secretMinChars,
  maxLength: WEBHOOK_LIMITS.secretMaxChars,
  pattern: '^[\\x21-\\x7e]+$',
  description: 'Signing secret (32-256 printable ASCII characters); generated (256 bits) when absent',
});

export const WebhookDescription = Nullable(
  Type.String({ maxLength: WEBHOOK_LIMITS.descriptionChars, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
);

export const WebhookIdParam = Type.String({ minLength: 1, maxLength: 64, pattern: '^wh_[0-9a-z]{26}$' });
export const DeliveryIdParam = Type.String({ minLength: 1, maxLength: 64, pattern: '^whd_[0-9a-z]{26}$' });

const viewFields = {
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  active: Type.Boolean(),
  disabled_reason: Nullable(Type.String()),
  failing_since: Nullable(Timestamp()),
  last_success_at: Nullable(Timestamp()),
  last_failure_at: Nullable(Timestamp()),
  previous_secret_expires_at: Nullable(
    Timestamp({ description: 'After a rotation: until when the previous secret also signs' }),
  ),
  created_at: Timestamp(),
  updated_at: Timestamp(),
};

const layerFields = { user_id: Nullable(Type.String()), agent_id: Nullable(Type.String()) };

export const EngramWebhook = Type.Object(viewFields, { title: 'Webhook' });
export const LayerWebhook = Type.Object({ ...viewFields, ...layerFields }, { title: 'LayerWebhook' });

const secretField = {
  secret: Type.String({ description: 'The signing secret. Shown only in this answer; stored encrypted.' }),
};
export const CreatedEngramWebhook = Type.Object(
  { ...viewFields, ...secretField },
  { title: 'CreatedWebhook' },
);
export const CreatedLayerWebhook = Type.Object(
  { ...viewFields, ...layerFields, ...secretField },
  { title: 'CreatedLayerWebhook' },
);
export const PatchedEngramWebhook = Type.Object(
  { ...viewFields, secret: Type.Optional(secretField.secret) },
  { title: 'PatchedWebhook' },
);
export const PatchedLayerWebhook = Type.Object(
  { ...viewFields, ...layerFields, secret: Type.Optional(secretField.secret) },
  { title: 'PatchedLayerWebhook' },
);

export const Delivery = Type.Object(
  {
    id: Type.String({ description: 'The X-PLUR-Delivery header of its attempts' }),
    webhook_id: Type.String(),
    event_id: Type.String({ description: 'The envelope id (wh-evt-...)' }),
    event: Type.String(),
    state: StringEnum(['queued', 'delivered', 'retrying', 'failed', 'skipped']),
    attempt: Type.Integer(),
    status_code: Nullable(Type.Integer()),
    latency_ms: Nullable(Type.Number()),
    error: Nullable(Type.String()),
    next_retry_at: Nullable(Timestamp()),
    response_excerpt: Nullable(Type.String()),
    redelivery_of: Nullable(Type.String()),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { title: 'WebhookDelivery' },
);

export const TestOutcome = Type.Object(
  {
    delivered: Type.Boolean(),
    delivery_id: Type.String(),
    event_id: Type.String(),
    status_code: Nullable(Type.Integer()),
    latency_ms: Type.Number(),
    error: Nullable(Type.String()),
  },
  { title: 'WebhookTestOutcome' },
);

export const DeliveriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});

export const baseCreateBody = {
  url: WebhookUrl,
  events: WebhookEvents,
  description: Type.Optional(WebhookDescription),
  secret: Type.Optional(WebhookSecret),
};

export const basePatchBody = {
  url: Type.Optional(WebhookUrl),
  events: Type.Optional(WebhookEvents),
  description: Type.Optional(WebhookDescription),
  active: Type.Optional(Type.Boolean()),
  rotate_secret: Type.Optional(
    Type.Boolean({ description: 'true: a new secret is generated and answered once' }),
  ),
  secret: Type.Optional(WebhookSecret),
};
