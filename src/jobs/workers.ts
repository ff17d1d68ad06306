import { Worker, type Job } from 'bullmq';
import type { Logger } from '../log.js';
import type { EmbedItem, ExtractionRequest } from '../memory/background.js';
import type { EnrichmentService } from '../memory/enrichment.js';
import type { Reembedder } from '../memory/reembed.js';
import type { RedisClient } from '../redis/clients.js';
import { NO_JOB_OBSERVER, type JobObserver } from './job-observer.js';
import { openQueue, QUEUES } from './queues.js';
import type { ReembedJobData } from './reembed-jobs.js';
import { tenantsNamed, type Tenant } from '../tenant.js';

/**
 * BullMQ workers: thin processors that call the enrichment service. They run inside the server process by
 * default (MNEMO_JOBS=inline) or in their own (`npm run worker`). Retries back off exponentially; when a
 * job has used its last attempt its failure is recorded as an event on the workspace stream.
 */
export interface WorkerSettings {
  /** Makes a new connection for each worker (BullMQ workers block and need maxRetriesPerRequest: null). */
  connection: () => RedisClient;
  prefix: string;
  sweepIntervalMs: number;
  log: Logger;
  /** Told of every attempt's outcome (metrics). */
  observer?: JobObserver;
}

export interface RunningWorkers {
  close(): Promise<void>;
}

export interface WorkerDomain {
  enrichment: EnrichmentService;
  reembedder: Reembedder;
}

export async function startWorkers(
  { enrichment, reembedder }: WorkerDomain,
  settings: WorkerSettings,
): Promise<RunningWorkers> {
  const { prefix, log } = settings;
  const workers: Worker[] = [];
  const lastAttempt = (job: Job | undefined): boolean =>
    !!job && job.attemptsMade >= (job.opts.attempts ?? 1);

  const embed = new Worker<{ workspace: Tenant; items: EmbedItem[] }>(
    QUEUES.embed,
    async (job) => enrichment.embed(job.data.workspace, job.data.items),
    { connection: settings.connection(), prefix, concurrency: 2 },
  );
  embed.on('failed', (job, err) => {
    if (!job || !lastAttempt(job)) return;
    void enrichment
      .recordFailure(job.data.workspace, 'memory.embedding_failed', {
        ids: job.data.items.map((i) => i.id),
        error: err.message,
        attempts: job.attemptsMade,
      })
      .catch((e: unknown) => log.error({ err: e }, 'could not record an embedding failure'));
  });
  workers.push(embed);

  const extract = new Worker<ExtractionRequest>(
    QUEUES.extract,
    async (job) => (await enrichment.extractFacts(job.data)).length,
    { connection: settings.connection(), prefix, concurrency: 4 },
  );
  extract.on('failed', (job, err) => {
    if (!job || !lastAttempt(job)) return;
    void enrichment
      .recordFailure(job.data.workspace, 'facts.extraction_failed', {
        episode_id: job.data.episodeId,
        user_id: job.data.ns.userId,
        agent_id: job.data.ns.agentId,
        error: err.message,
        attempts: job.attemptsMade,
      })
      .catch((e: unknown) => log.error({ err: e }, 'could not record an extraction failure'));
  });
  workers.push(extract);

  // One workspace at a time: a re-embed is long and would otherwise compete with live embedding.
  const reembed = new Worker<ReembedJobData>(
    QUEUES.reembed,
    async (job) =>
      // The admin names a workspace id: the layer workspace and the organisation of that name are both
      // re-embedded (two tenants, one after the other).
      reembedder.run(tenantsNamed(job.data.workspace), {
        force: job.data.force,
        onProgress: (progress) => job.updateProgress(progress),
      }),
    { connection: settings.connection(), prefix, concurrency: 1 },
  );
  workers.push(reembed);

  const maintenance = new Worker(QUEUES.maintenance, async () => enrichment.sweepExpired(), {
    connection: settings.connection(),
    prefix,
    concurrency: 1,
  });
  workers.push(maintenance);
  const scheduler = openQueue(QUEUES.maintenance, { connection: settings.connection(), prefix, log });
  await scheduler.upsertJobScheduler('sweep-expired', { every: settings.sweepIntervalMs }, { name: 'sweep' });

  const observer = settings.observer ?? NO_JOB_OBSERVER;
  for (const worker of workers) {
    worker.on('error', (err) => log.warn({ err: err.message, queue: worker.name }, 'worker error'));
    worker.on('completed', () => observer.attempted(worker.name, 'completed', false));
    worker.on('failed', (job) => observer.attempted(worker.name, 'failed', lastAttempt(job)));
  }
  return {
    close: async () => {
      await Promise.all([...workers.map((w) => w.close()), scheduler.close()]);
    },
  };
}
