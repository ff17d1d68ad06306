import type { Queue } from 'bullmq';
import type { DeliveryJob, WebhookQueue } from '../memory/webhooks/webhook-queue.js';
import { openQueue, QUEUES, type QueueSettings } from './queues.js';

/**
 * The producer side of webhook deliveries. A job's id is its delivery id, so adding a job that exists (a
 * dispatcher enqueueing a page again after a crash or a lost lease) is a no-op. Finished jobs are kept an
 * hour so such a repeat still finds them; they hold the envelope (memory content), so not longer.
 */
const KEEP_FINISHED = { age: 3600 };

export class WebhookJobs implements WebhookQueue {
  private readonly queue: Queue<DeliveryJob>;

  constructor(
    settings: QueueSettings,
    private readonly attempts: number,
  ) {
    this.queue = openQueue<DeliveryJob>(QUEUES.webhook, settings);
  }

  async enqueue(jobs: DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((data) => ({
        name: 'deliver',
        data,
        opts: {
          jobId: data.deliveryId,
          attempts: this.attempts,
          // The worker's backoffStrategy (retryDelayMs) computes each wait.
          backoff: { type: 'webhook' },
          removeOnComplete: KEEP_FINISHED,
          removeOnFail: KEEP_FINISHED,
        },
      })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
