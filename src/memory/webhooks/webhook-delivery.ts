import { createHash } from 'node:crypto';
import type { WebhookFace } from './webhook-model.js';
import type { SecretBox } from './secret-box.js';
import type { StoredWebhook } from './webhook-model.js';

/**
 * The pure parts of a delivery: its envelope, its id, its place in the ordered queue, its secrets and its
 * retry schedule. Shared by the dispatcher, the delivery worker and the test / redeliver routes.
 */

/** The PLUR envelope of a stored event: {event, id: "wh-evt-<stream id>", ts, org | workspace, actor, data}. */
export function webhookEnvelope(face: WebhookFace, storedJson: string): { type: string; body: string } {
  const stored = JSON.parse(storedJson) as {
    id: string;
    type: string;
    ts: string;
    workspace: string;
    actor: unknown;
    data: unknown;
  };
  const tenantField = face === 'engram' ? 'org' : 'workspace';
  return {
    type: stored.type,
    body: JSON.stringify({
      event: stored.type,
      id: `wh-evt-${stored.id}`,
      ts: stored.ts,
      [tenantField]: stored.workspace,
      actor: stored.actor,
      data: stored.data,
    }),
  };
}

/**
 * A delivery's id is derived from the webhook and the event, so a dispatcher that enqueues an event again
 * (after a crash, or a lost lease) names the same delivery: the job is deduplicated by it and the receiver
 * sees one X-PLUR-Delivery per event.
 */
export const deliveryIdFor = (webhookId: string, streamId: string): string =>
  `whd_${createHash('sha256').update(`${webhookId}\n${streamId}`).digest('hex').slice(0, 26)}`;

/** Stream ids padded so lexical order is event order. */
export function paddedStreamId(streamId: string): string {
  const [ms = '0', seq = '0'] = streamId.split('-');
  return `${ms.padStart(15, '0')}-${seq.padStart(10, '0')}`;
}

/** The member of the tenant's ordered queue of first attempts (see takeWebhookSlot-2.lua). */
export const queuedMember = (webhookId: string, streamId: string, deliveryId: string): string =>
  `${webhookId}|${paddedStreamId(streamId)}|${deliveryId}`;

/** The secrets that sign now: the current one, and the previous one during its grace period. */
export function signingSecrets(webhook: StoredWebhook, box: SecretBox, now = Date.now()): string[] {
  const secrets: string[] = [];
  const current = box.open(webhook.sealedSecret);
  if (current !== undefined) secrets.push(current);
  const until = webhook.health.previousUntil;
  if (webhook.sealedPrevious && until !== null && until > now) {
    const previous = box.open(webhook.sealedPrevious);
    if (previous !== undefined) secrets.push(previous);
  }
  return secrets;
}

export interface RetrySchedule {
  baseMs: number;
  maxDelayMs: number;
}

/**
 * The wait before attempt `attemptsMade + 1`: base * 2^(attemptsMade - 1), capped, times a jitter from 0.5
 * to 1.5 derived from the delivery id (so the worker's BullMQ backoff and the log's next_retry_at agree).
 */
export function retryDelayMs(schedule: RetrySchedule, deliveryId: string, attemptsMade: number): number {
  const exponential = Math.min(schedule.baseMs * 2 ** Math.max(0, attemptsMade - 1), schedule.maxDelayMs);
  const digest = createHash('sha256').update(`${deliveryId}#${attemptsMade}`).digest();
  const jitter = 0.5 + digest.readUInt32BE(0) / 0xffffffff;
  return Math.max(1, Math.round(exponential * jitter));
}
