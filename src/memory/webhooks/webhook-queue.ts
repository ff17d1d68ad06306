import type { Tenant } from '../../tenant.js';
import type { WebhookFace } from './webhook-model.js';

/**
 * One delivery of one event to one webhook, as a job carries it: the envelope is signed anew at each
 * attempt (fresh timestamp, the secrets valid then), so the job holds the body, never a secret.
 */
export interface DeliveryJob {
  tenant: Tenant;
  face: WebhookFace;
  webhookId: string;
  deliveryId: string;
  /** The event's id in the tenant stream ('' for a test event). */
  streamId: string;
  type: string;
  /** The envelope, the exact bytes every attempt sends. */
  body: string;
  /** Its member in the ordered queue of first attempts; '' when unordered (redeliveries). */
  queued: string;
  redeliveryOf: string | null;
}

/** The port to the job queue (src/jobs/webhook-jobs.ts): adding a job whose id exists is a no-op. */
export interface WebhookQueue {
  enqueue(jobs: DeliveryJob[]): Promise<void>;
}
