import type { Config } from './config.js';
import { QueuedWork } from './jobs/queued-work.js';
import type { JobObserver } from './jobs/job-observer.js';
import { startWorkers } from './jobs/workers.js';
import type { Logger } from './log.js';
import type { Embedder } from './memory/embedders/embedder.js';
import { createEmbedder } from './memory/embedders/factory.js';
import { ENGRAM_INDEX_RULES } from './memory/engrams/engram-events.js';
import { createMemoryEngine, type MemoryEngine } from './memory/engine.js';
import { EventLog } from './memory/event-log.js';
import type { RedisClient, RedisFactory } from './redis/clients.js';
import { Keys } from './redis/keys.js';
import { Scripts } from './redis/scripts.js';
import type { IndexObserver } from './memory/search/index-observer.js';
import { Tracing } from './tracing/tracing.js';

/**
 * The parts every mnemo process needs, server or worker: keys, scripts, the event log, the embedder, the
 * job queues, the memory engine, and (when asked) the BullMQ workers. `close` releases them in reverse.
 */
export interface MemoryRuntime {
  keys: Keys;
  scripts: Scripts;
  events: EventLog;
  embedder: Embedder;
  queues: QueuedWork;
  engine: MemoryEngine;
  /** Request traces (MNEMO_OTEL_ENDPOINT); off unless configured. */
  tracing: Tracing;
  close(): Promise<void>;
}

/** Who is told how the indexes and job workers fare (the metrics of a server process). */
export interface RuntimeObserver {
  indexes: IndexObserver;
  jobs: JobObserver;
}

export async function openMemoryRuntime(
  config: Readonly<Config>,
  log: Logger,
  factory: RedisFactory,
  command: RedisClient,
  options: { workers: boolean; observer?: RuntimeObserver },
): Promise<MemoryRuntime> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const keys = new Keys(config.keyPrefix);
    const tracing = new Tracing();
    tracing.configure(
      {
        endpoint: config.otelEndpoint,
        serviceName: config.otelServiceName,
        sampleRatio: config.otelSampleRatio,
      },
      log,
    );
    closers.push(() => tracing.close());
    const scripts = new Scripts(
      command,
      undefined,
      { replicas: config.redisWaitReplicas, timeoutMs: config.redisWaitTimeoutMs },
      tracing,
    );
    const events = new EventLog(command, scripts, keys, config.eventStreamMaxLen);
    const embedder = await createEmbedder(config);
    closers.push(() => embedder.close());
    const queues = new QueuedWork(
      {
        connection: factory.create('producer'),
        prefix: keys.bullPrefix(),
        log,
        attempts: config.jobAttempts,
        backoffMs: config.jobBackoffMs,
      },
      config.extractorUrl !== undefined,
    );
    closers.push(() => queues.close());
    const engine = createMemoryEngine({
      config,
      log,
      redis: command,
      scripts,
      keys,
      events,
      embedder,
      background: queues,
      extraIndexRules: ENGRAM_INDEX_RULES,
      tracing,
      ...(options.observer ? { indexObserver: options.observer.indexes } : {}),
    });
    closers.push(async () => engine.indexes.close());
    if (options.workers) {
      const workers = await startWorkers(engine, {
        connection: () => factory.create('bullmq'),
        prefix: keys.bullPrefix(),
        sweepIntervalMs: config.sweepIntervalMs,
        log,
        ...(options.observer ? { observer: options.observer.jobs } : {}),
      });
      closers.push(() => workers.close());
    }
    return { keys, scripts, events, embedder, queues, engine, tracing, close };
  } catch (err) {
    await close();
    throw err;
  }
}
