import type { Queue, JobsOptions } from 'bullmq';
import type { EmbedItem, BackgroundWork, ExtractionRequest } from '../memory/background.js';
import {
  CONTENT_JOB_RETENTION,
  openQueue,
  QUEUES,
  retryOptions,
  type RetriedQueueSettings,
} from './queues.js';
import type { Tenant } from '../tenant.js';

/**
 * The memory engine's BackgroundWork port on BullMQ queues: enqueueing is a durable Redis write, so an
 * acknowledged remember never loses its pending embedding or extraction, even if this process dies.
 */
export class QueuedWork implements BackgroundWork {
  private readonly embedQueue: Queue;
  private readonly extractQueue: Queue | undefined;
  private readonly jobOptions: JobsOptions;
  /** Present only when an LLM extractor is configured (the memory engine checks for it). */
  readonly extractFacts?: (request: ExtractionRequest) => Promise<void>;

  constructor(settings: RetriedQueueSettings, llmExtraction: boolean) {
    this.embedQueue = openQueue(QUEUES.embed, settings);
    this.extractQueue = llmExtraction ? openQueue(QUEUES.extract, settings) : undefined;
    this.jobOptions = { ...retryOptions(settings), ...CONTENT_JOB_RETENTION };
    const extractQueue = this.extractQueue;
    if (extractQueue) {
      this.extractFacts = async (request) => {
        await extractQueue.add('extract', request, this.jobOptions);
      };
    }
  }

  async embed(workspace: Tenant, items: EmbedItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.embedQueue.add('embed', { workspace, items }, this.jobOptions);
  }

  async close(): Promise<void> {
    await Promise.all([this.embedQueue.close(), this.extractQueue?.close()]);
  }
}
