import type { Queue } from 'bullmq';
import { openQueue, QUEUES, type QueueSettings } from './queues.js';

/** Job states counted for metrics: what is waiting, running, scheduled, and kept after failing. */
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;

/**
 * Reads how many jobs each queue holds, by state (for /metrics). One connection of its own, read only at
 * scrape time; it works wherever the workers run (here or in `npm run worker`).
 */
export class QueueDepth {
  private readonly queues: Queue[];

  constructor(settings: QueueSettings) {
    this.queues = Object.values(QUEUES).map((name) => openQueue(name, settings));
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const all = await Promise.all(this.queues.map((queue) => queue.getJobCounts(...STATES)));
    const out: Record<string, Record<string, number>> = {};
    this.queues.forEach((queue, i) => (out[queue.name] = all[i] as Record<string, number>));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close()));
  }
}
