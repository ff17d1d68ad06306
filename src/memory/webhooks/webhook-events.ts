/**
 * The events webhooks announce about themselves, on the tenant's own stream (so sockets, audits and other
 * webhooks see them): data is the webhook's public record (never a secret), or {id, url, reason} for a
 * system-side disable, or the redelivery's ids.
 */
export const WEBHOOK_EVENT_TYPES = [
  'webhook.created',
  'webhook.updated',
  'webhook.enabled',
  'webhook.disabled',
  'webhook.secret_rotated',
  'webhook.deleted',
  'webhook.redelivered',
] as const;

/** The type of the event POST .../test sends (never stored in the stream). */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

/** A type pattern as webhooks and subscriptions take them: `*`, `family.*`, or an exact type. */
export const EVENT_PATTERN = '^(\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\.\\*)?)$';
