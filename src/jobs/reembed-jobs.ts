import type { Queue, Job, JobsOptions } from 'bullmq';
import { randomHex } from '../ids.js';
import type { ReembedProgress } from '../memory/reembed.js';
import { openQueue, QUEUES, retryOptions, type RetriedQueueSettings } from './queues.js';
import { jobSnapshot, jobStateOf, type JobState } from './job-snapshot.js';

/**
 * Re-embed runs as BullMQ jobs (durable, retried, run by whichever process has workers): this starts one
 * per workspace and reports on it. Asking again while one is waiting or running answers that one.
 */
export interface ReembedJobData {
  workspace: string;
  force: boolean;
}

export interface ReembedJobStatus {
  jobId: string;
  workspace: string;
  force: boolean;
  state: JobState;
  progress: ReembedProgress;
  attempts: number;
  createdAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

/** Finished jobs kept for status queries. */
const KEEP_FINISHED = { count: 200 };
export class ReembedJobs {
  private readonly queue: Queue<ReembedJobData>;
  private readonly options: JobsOptions;

  constructor(settings: RetriedQueueSettings) {
    this.queue = openQueue<ReembedJobData>(QUEUES.reembed, settings);
    this.options = {
      ...retryOptions(settings),
      removeOnComplete: KEEP_FINISHED,
      removeOnFail: KEEP_FINISHED,
    };
  }

  /** Starts a re-embed of the workspace, or returns the one already waiting or running for it. */
  async start(workspace: string, force: boolean): Promise<{ status: ReembedJobStatus; started: boolean }> {
    const pending = await this.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    const existing = pending.find((job) => job.data.workspace === workspace);
    if (existing) return { status: this.describe(existing, await existing.getState()), started: false };
    const job = await this.queue.add(
      'reembed',
      { workspace, force },
      { ...this.options, jobId: `reembed_${randomHex(12)}` },
    );
    return { status: this.describe(job, await job.getState()), started: true };
  }

  async status(jobId: string): Promise<ReembedJobStatus | undefined> {
    const snapshot = await jobSnapshot(this.queue, jobId);
    return snapshot ? this.describe(snapshot.job, snapshot.state) : undefined;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  private describe(job: Job<ReembedJobData>, state: string): ReembedJobStatus {
    const progress = isProgress(job.progress) ? job.progress : { total: 0, scanned: 0, embedded: 0 };
    return {
      jobId: job.id ?? '',
      workspace: job.data.workspace,
      force: job.data.force,
      state: jobStateOf(state),
      progress,
      attempts: job.attemptsMade,
      createdAt: new Date(job.timestamp),
      finishedAt: job.finishedOn ? new Date(job.finishedOn) : null,
      error: job.failedReason || null,
    };
  }
}

function isProgress(value: unknown): value is ReembedProgress {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ReembedProgress).total === 'number' &&
    typeof (value as ReembedProgress).embedded === 'number'
  );
}
