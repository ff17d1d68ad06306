import { Queue, type JobsOptions } from 'bullmq';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/clients.js';

/** Every BullMQ queue, named in one place. */
export const QUEUES = {
  /** Embed documents with a slow embedder (offline model, remote API). */
  embed: 'mnemo-embed',
  /** LLM fact extraction of an episode. */
  extract: 'mnemo-extract',
  /** Re-embedding a whole workspace on request (POST /admin/workspaces/{id}/reembed). */
  reembed: 'mnemo-reembed',
  /** Installing a pack too large to install inline (POST /api/v1/packs answers 202). */
  packInstall: 'mnemo-pack-install',
  /** Periodic upkeep: expiring working entries. */
  maintenance: 'mnemo-maintenance',
  /** Webhook deliveries: one job per (webhook, event), retried with backoff (src/jobs/webhook-worker.ts). */
  webhook: 'mnemo-webhook',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Where a queue lives and where its connection errors are reported. */
export interface QueueSettings {
  connection: RedisClient;
  prefix: string;
  log: Logger;
}

/** A producer's queue whose jobs are retried with exponential backoff. */
export interface RetriedQueueSettings extends QueueSettings {
  attempts: number;
  backoffMs: number;
}

/** The retry part of a job's options. */
export function retryOptions(settings: RetriedQueueSettings): JobsOptions {
  return { attempts: settings.attempts, backoff: { type: 'exponential', delay: settings.backoffMs } };
}

/**
 * Opens a producer-side queue. Its connection errors go to the log as warnings (BullMQ would otherwise
 * print them raw to the console): an outage is reported once by the health check, not as stack traces.
 */
export function openQueue<T>(name: QueueName, settings: QueueSettings): Queue<T> {
  const queue = new Queue<T>(name, { connection: settings.connection, prefix: settings.prefix });
  queue.on('error', (err) => settings.log.warn({ err: err.message, queue: name }, 'queue error'));
  return queue;
}

/**
 * Retention of finished jobs. Embedding and extraction jobs carry memory content, so a finished one is
 * deleted at once (user erasure must not leave copies in the queue); a failed one is kept a day for
 * diagnosis, and its failure is also recorded as an event on the workspace stream.
 */
export const CONTENT_JOB_RETENTION = {
  removeOnComplete: true,
  removeOnFail: { age: 24 * 60 * 60, count: 1000 },
} as const;
