import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/clients.js';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import type { BackgroundWork } from './background.js';
import type { Embedder } from './embedders/embedder.js';
import { QueryEmbedder } from './embedders/query-embedder.js';
import { EnrichmentService } from './enrichment.js';
import type { EventLog } from './event-log.js';
import { LlmExtractor } from './facts/llm-extractor.js';
import { MemoryService } from './memory-service.js';
import { MemoryStore } from './memory-store.js';
import { RecallService } from './recall-service.js';
import { Reembedder } from './reembed.js';
import { IndexManager, MEMORY_INDEX_RULES, type IndexEventRules } from './search/index-manager.js';
import type { IndexObserver } from './search/index-observer.js';
import { IndexSnapshots } from './search/index-snapshots.js';
import { SnapshotStore } from './search/snapshot-store.js';
import { TRACING_OFF, type Tracing } from '../tracing/tracing.js';

/** The memory engine's parts, assembled once by the composition root. */
export interface MemoryEngine {
  embedder: Embedder;
  store: MemoryStore;
  indexes: IndexManager;
  memory: MemoryService;
  recall: RecallService;
  enrichment: EnrichmentService;
  reembedder: Reembedder;
}

export interface EngineDeps {
  config: Readonly<Config>;
  log: Logger;
  redis: RedisClient;
  scripts: Scripts;
  keys: Keys;
  events: EventLog;
  embedder: Embedder;
  background: BackgroundWork;
  /** Index rules of event types other faces add (engram events). */
  extraIndexRules?: IndexEventRules;
  /** Told about index builds, evictions and catch-ups (metrics). */
  indexObserver?: IndexObserver;
  /** Request traces: recall and context open a search span. */
  tracing?: Tracing;
}

export function createMemoryEngine(deps: EngineDeps): MemoryEngine {
  const { config, log, redis, scripts, keys, events, embedder } = deps;
  const store = new MemoryStore(redis, scripts, keys, events);
  const snapshots = new IndexSnapshots(
    new SnapshotStore(redis, scripts, keys),
    {
      minDocs: config.indexSnapshotMinDocs,
      embedder: embedder.name,
      streamMaxLen: config.eventStreamMaxLen,
    },
    embedder.dim,
    config.vectorPrecision,
    log,
    deps.indexObserver,
  );
  const indexes = new IndexManager(
    redis,
    keys,
    events,
    embedder.dim,
    { ...MEMORY_INDEX_RULES, ...deps.extraIndexRules },
    config.indexMaxBytes,
    log,
    config.vectorPrecision,
    deps.indexObserver,
    snapshots,
    { minVectors: config.vectorPartitionMin, scan: config.vectorPartitionScan },
  );
  const [similarity, recency, importance] = config.scoreWeights as [number, number, number];
  const recall = new RecallService(indexes, new QueryEmbedder(embedder), {
    weights: { similarity, recency, importance },
    relevanceFloor: config.relevanceFloor,
    recencyLambda: config.recencyLambda,
    embedTimeoutMs: config.embedTimeoutMs,
    cacheTtlMs: config.recallCacheTtlMs,
    tracing: deps.tracing ?? TRACING_OFF,
  });
  const memory = new MemoryService(store, embedder, deps.background, {
    workingCapacity: config.workingCapacity,
    workingTtlSeconds: config.workingTtlSeconds,
  });
  const extractor = config.extractorUrl
    ? new LlmExtractor({
        baseUrl: config.extractorUrl,
        model: config.extractorModel,
        timeoutMs: 20_000,
        ...(config.extractorApiKey ? { apiKey: config.extractorApiKey } : {}),
      })
    : undefined;
  const enrichment = new EnrichmentService(
    store,
    events,
    embedder,
    extractor,
    { workspaces: () => store.ttlWorkspaces(), forget: (ws) => store.forgetTtlWorkspace(ws) },
    log,
  );
  const reembedder = new Reembedder(store, embedder);
  return { embedder, store, indexes, memory, recall, enrichment, reembedder };
}
