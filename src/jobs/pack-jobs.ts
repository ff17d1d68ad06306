import { Worker, type Job, type JobsOptions, type Queue } from 'bullmq';
import { randomHex } from '../ids.js';
import type { Logger } from '../log.js';
import type {
  InstallResult,
  PackInstallQueue,
  PackService,
  PreparedInstall,
} from '../memory/packs/pack-service.js';
import type { RedisClient } from '../redis/clients.js';
import { openQueue, QUEUES, type QueueSettings } from './queues.js';
import { jobSnapshot, jobStateOf, type JobState } from './job-snapshot.js';

/**
 * Large pack installs as BullMQ jobs. The request has already checked the pack completely (archive,
 * integrity, secrets, permissions); the job embeds the engrams, reporting progress, and runs the same
 * one-step install script, so a job either installs the whole pack or nothing. The install is not retried:
 * a second attempt could only meet the same outcome, and a failure is reported on the job.
 */
export interface PackJobStatus {
  jobId: string;
  org: string;
  state: JobState;
  progress: { done: number; total: number };
  result: Omit<InstallResult, 'status'> | null;
  error: string | null;
}

/** Finished jobs kept for status queries (an hour, at most 500). */
const KEEP_FINISHED = { age: 3600, count: 500 };
export class PackJobs implements PackInstallQueue {
  private readonly queue: Queue<PreparedInstall>;
  private readonly options: JobsOptions = {
    attempts: 1,
    removeOnComplete: KEEP_FINISHED,
    removeOnFail: KEEP_FINISHED,
  };
  private worker: Worker<PreparedInstall> | undefined;

  constructor(private readonly settings: QueueSettings) {
    this.queue = openQueue<PreparedInstall>(QUEUES.packInstall, settings);
  }

  async enqueue(install: PreparedInstall): Promise<string> {
    const job = await this.queue.add('install', install, {
      ...this.options,
      jobId: `packjob_${randomHex(12)}`,
    });
    await job.updateProgress({ done: 0, total: install.engrams.length });
    return job.id ?? '';
  }

  /** The job, when it belongs to `org` (another organisation's job does not exist for it). */
  async status(org: string, jobId: string): Promise<PackJobStatus | undefined> {
    const snapshot = await jobSnapshot(this.queue, jobId);
    if (!snapshot || snapshot.job.data.org !== org) return undefined;
    const { job } = snapshot;
    const state = jobStateOf(snapshot.state);
    const progress = job.progress as { done?: unknown; total?: unknown } | undefined;
    const result = job.returnvalue as InstallResult | null | undefined;
    return {
      jobId,
      org,
      state,
      progress: {
        done: typeof progress?.done === 'number' ? progress.done : 0,
        total: typeof progress?.total === 'number' ? progress.total : job.data.engrams.length,
      },
      result: state === 'completed' && result ? withoutStatus(result) : null,
      error: job.failedReason || null,
    };
  }

  /** Starts the worker of this process (each server process runs one: installs need the engram domain). */
  startWorker(packs: PackService, connection: RedisClient, log: Logger): void {
    this.worker = new Worker<PreparedInstall>(
      QUEUES.packInstall,
      async (job: Job<PreparedInstall>) =>
        packs.execute(job.data, async (done, total) => {
          await job.updateProgress({ done, total });
        }),
      { connection, prefix: this.settings.prefix, concurrency: 1 },
    );
    this.worker.on('error', (err) =>
      log.warn({ err: err.message, queue: QUEUES.packInstall }, 'worker error'),
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.worker?.close(), this.queue.close()]);
  }
}

function withoutStatus(result: InstallResult): Omit<InstallResult, 'status'> {
  const { status: _status, ...rest } = result;
  return rest;
}
