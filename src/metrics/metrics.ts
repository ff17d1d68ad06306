import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobObserver } from '../jobs/job-observer.js';
import type { IndexObserver } from '../memory/search/index-observer.js';
import { LATENCY_BUCKETS, RouteMeter } from './http-meter.js';
import { WebhookMetrics } from './webhook-metrics.js';

/** Which recall-like operation a latency belongs to. */
export type RecallOperation = 'recall' | 'context' | 'inject' | 'engram_recall';

/**
 * Every Prometheus metric of one mnemo instance, in its own registry (tests run several instances in one
 * process). Names start with `mnemo_`; the process metrics of prom-client keep their standard names
 * (`process_*`, `nodejs_*`). Figures that already exist as state (index sizes, open sockets, cache
 * counters, queue depth) are read when /metrics is scraped (see scrape-sources.ts), so the request path
 * only pays for what it must count itself.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Webhook delivery metrics: the webhook dispatcher plugs in here. */
  readonly webhooks: WebhookMetrics;
  readonly indexes: IndexObserver;
  readonly jobs: JobObserver;

  private readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  private readonly httpDurations: Histogram<'route' | 'method' | 'status'>;
  private readonly recallDurations: Histogram<'operation' | 'mode'>;
  private readonly rateLimited: Counter<'face'>;
  private readonly redisUnavailable: Counter;
  private readonly redisConnectionErrors: Counter<'role'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Summed over a process group, this is how many processes answered the scrape.
    new Gauge({
      name: 'mnemo_processes',
      help: 'Server processes whose figures this scrape covers (1 per process, summed over a group).',
      registers,
    }).set(1);
    this.httpRequests = new Counter({
      name: 'mnemo_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpDurations = new Histogram({
      name: 'mnemo_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to writing its answer, by route template, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.recallDurations = new Histogram({
      name: 'mnemo_recall_duration_seconds',
      help: 'Search operations (layer recall and context, engram recall and inject) by the mode that answered.',
      labelNames: ['operation', 'mode'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.rateLimited = new Counter({
      name: 'mnemo_rate_limit_rejections_total',
      help: 'Requests refused with 429 by the per-credential rate limit, by API face.',
      labelNames: ['face'],
      registers,
    });
    this.redisUnavailable = new Counter({
      name: 'mnemo_redis_unavailable_responses_total',
      help: 'Requests answered 503 because Redis did not answer (connection lost or command timeout).',
      registers,
    });
    this.redisConnectionErrors = new Counter({
      name: 'mnemo_redis_connection_errors_total',
      help: 'Errors reported by Redis connections (refused, reset, timed out), by connection role.',
      labelNames: ['role'],
      registers,
    });
    this.webhooks = new WebhookMetrics(this.registry);
    this.indexes = indexObserver(this.registry);
    this.jobs = jobObserver(this.registry);
  }

  /** The meter of one route template and method; made once per route at boot. */
  routeMeter(route: string, method: string): RouteMeter {
    return new RouteMeter(this.httpRequests, this.httpDurations, route, method);
  }

  recallObserved(operation: RecallOperation, mode: string, seconds: number): void {
    this.recallDurations.observe({ operation, mode }, seconds);
  }

  rateLimitRejected(face: string): void {
    this.rateLimited.inc({ face });
  }

  redisUnavailableAnswered(): void {
    this.redisUnavailable.inc();
  }

  redisConnectionError(role: string): void {
    this.redisConnectionErrors.inc({ role });
  }
}

function indexObserver(registry: Registry): IndexObserver {
  const registers = [registry];
  const loads = new Counter({
    name: 'mnemo_search_index_loads_total',
    help: 'Workspace search indexes built from Redis (first use, after an eviction, or a rebuild).',
    registers,
  });
  const loadDurations = new Histogram({
    name: 'mnemo_search_index_load_duration_seconds',
    help: 'Time to build a workspace search index from Redis.',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
    registers,
  });
  const evictions = new Counter({
    name: 'mnemo_search_index_evictions_total',
    help: 'Search indexes dropped from memory to keep MNEMO_INDEX_MAX_BYTES.',
    registers,
  });
  const lag = new Histogram({
    name: 'mnemo_search_catchup_lag_events',
    help: 'Events an index was behind when a query caught it up (0 = already current).',
    buckets: [0, 1, 5, 25, 100, 500, 2500],
    registers,
  });
  const catchUps = new Histogram({
    name: 'mnemo_search_catchup_duration_seconds',
    help: 'Time to bring an index up to date before a query: one Redis round trip when nothing was new.',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const snapshotLoads = new Counter({
    name: 'mnemo_search_index_snapshot_loads_total',
    help: 'Persisted index snapshots a build tried, by outcome (restored, incompatible, unreadable).',
    labelNames: ['outcome'],
    registers,
  });
  const snapshotLoadDurations = new Histogram({
    name: 'mnemo_search_index_snapshot_load_duration_seconds',
    help: 'Time to fetch, check and restore a persisted index snapshot (before its catch-up).',
    buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const snapshotWrites = new Counter({
    name: 'mnemo_search_index_snapshot_writes_total',
    help: 'Persisted index snapshot writes, by outcome (committed, stale: a newer one existed, failed).',
    labelNames: ['outcome'],
    registers,
  });
  const snapshotWriteDurations = new Histogram({
    name: 'mnemo_search_index_snapshot_write_duration_seconds',
    help: 'Time to capture, encode and store a persisted index snapshot (in the background).',
    buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const snapshotBytes = new Counter({
    name: 'mnemo_search_index_snapshot_written_bytes_total',
    help: 'Bytes of persisted index snapshots written to Redis.',
    registers,
  });
  return {
    snapshotLoaded: (outcome, seconds) => {
      snapshotLoads.inc({ outcome });
      if (outcome === 'restored') snapshotLoadDurations.observe(seconds);
    },
    snapshotWritten: (outcome, seconds, bytes) => {
      snapshotWrites.inc({ outcome });
      if (outcome !== 'failed') snapshotWriteDurations.observe(seconds);
      snapshotBytes.inc(bytes);
    },
    built: (seconds) => {
      loads.inc();
      loadDurations.observe(seconds);
    },
    evicted: () => evictions.inc(),
    caughtUp: (events, seconds) => {
      lag.observe(events);
      catchUps.observe(seconds);
    },
  };
}

function jobObserver(registry: Registry): JobObserver {
  const attempts = new Counter({
    name: 'mnemo_job_attempts_total',
    help: 'Job attempts finished by the BullMQ workers of this process, by queue and outcome.',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'mnemo_job_failures_total',
    help: 'Jobs that failed their last attempt (no retry left), by queue.',
    labelNames: ['queue'],
    registers: [registry],
  });
  return {
    attempted: (queue, outcome, final) => {
      attempts.inc({ queue, outcome });
      if (final) failures.inc({ queue });
    },
  };
}
