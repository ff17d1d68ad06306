import { Counter, Gauge, type Registry } from 'prom-client';

/** A cache whose lookups count their hits and misses (src/auth/credential-cache.ts). */
export interface CountingCache {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
}

/** State that already exists elsewhere and is read when /metrics is scraped, never on the request path. */
export interface ScrapeSources {
  indexes: () => { workspaces: number; bytes: number; rebuilds: number; docs: number; vectors: number };
  eventStream: () => {
    socketsOpen: number;
    workspacesFollowed: number;
    eventsSent: number;
    backpressureCloses: number;
  };
  credentialCaches: Record<string, CountingCache>;
  /** Jobs per state of each queue; rejects when Redis does not answer (the figures are then left out). */
  queueDepth: () => Promise<Record<string, Record<string, number>>>;
  /** One PING's round trip in seconds, or undefined when Redis did not answer in time. */
  redisRoundTrip: () => Promise<number | undefined>;
}

/**
 * A counter whose value is a running total kept elsewhere as a plain number. Prometheus counters only
 * grow; so do these totals, so setting the counter to the total at scrape time is exact.
 */
function totalCounter(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function labelledTotal(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => [string, number][],
): Counter<string> {
  return new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, total] of read()) this.inc({ [label]: value }, total);
    },
  });
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** Registers every scrape-time metric of one instance. */
export function watchSources(registry: Registry, sources: ScrapeSources): void {
  gauge(
    registry,
    'mnemo_search_index_workspaces',
    'Workspace indexes held in memory.',
    () => sources.indexes().workspaces,
  );
  gauge(
    registry,
    'mnemo_search_index_bytes',
    'Approximate bytes of the indexes held.',
    () => sources.indexes().bytes,
  );
  gauge(
    registry,
    'mnemo_search_index_documents',
    'Documents in the indexes held.',
    () => sources.indexes().docs,
  );
  gauge(
    registry,
    'mnemo_search_index_vectors',
    'Vectors in the indexes held.',
    () => sources.indexes().vectors,
  );
  totalCounter(
    registry,
    'mnemo_search_index_rebuilds_total',
    'Indexes rebuilt because the event stream was trimmed past them (MNEMO_EVENT_STREAM_MAXLEN too low).',
    () => sources.indexes().rebuilds,
  );

  gauge(
    registry,
    'mnemo_event_sockets_open',
    'Open event-stream WebSockets.',
    () => sources.eventStream().socketsOpen,
  );
  gauge(
    registry,
    'mnemo_event_workspaces_followed',
    'Workspaces whose event channel this process follows (those with a subscribed socket here).',
    () => sources.eventStream().workspacesFollowed,
  );
  totalCounter(
    registry,
    'mnemo_events_sent_total',
    'Event frames sent to WebSocket subscribers (live fan-out and replay).',
    () => sources.eventStream().eventsSent,
  );
  totalCounter(
    registry,
    'mnemo_event_backpressure_closes_total',
    'Event sockets closed with 4008 because the client read too slowly.',
    () => sources.eventStream().backpressureCloses,
  );

  const caches = Object.entries(sources.credentialCaches);
  labelledTotal(
    registry,
    'mnemo_credential_cache_hits_total',
    'Credential lookups answered from memory.',
    'cache',
    () => caches.map(([name, cache]) => [name, cache.hits]),
  );
  labelledTotal(
    registry,
    'mnemo_credential_cache_misses_total',
    'Credential lookups that read Redis.',
    'cache',
    () => caches.map(([name, cache]) => [name, cache.misses]),
  );
  new Gauge({
    name: 'mnemo_credential_cache_hit_ratio',
    help: 'Hits / lookups of each credential cache since start (averaged over a process group).',
    labelNames: ['cache'],
    aggregator: 'average',
    registers: [registry],
    collect() {
      for (const [name, cache] of caches) {
        const lookups = cache.hits + cache.misses;
        this.set({ cache: name }, lookups === 0 ? 0 : cache.hits / lookups);
      }
    },
  });
  new Gauge({
    name: 'mnemo_credential_cache_entries',
    help: 'Credentials held by each cache.',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      for (const [name, cache] of caches) this.set({ cache: name }, cache.size);
    },
  });

  new Gauge({
    name: 'mnemo_job_queue_jobs',
    help: 'Jobs in each BullMQ queue by state (waiting, active, delayed, prioritized, failed).',
    labelNames: ['queue', 'state'],
    // Every process reads the same queues: the group's figure is one reading, not the sum.
    aggregator: 'max',
    registers: [registry],
    async collect() {
      this.reset();
      const depth = await sources.queueDepth().catch(() => undefined);
      if (!depth) return;
      for (const [queue, states] of Object.entries(depth)) {
        for (const [state, count] of Object.entries(states)) this.set({ queue, state }, count);
      }
    },
  });
  // Both gauges read one PING per scrape (prom-client collects the metrics of a scrape concurrently).
  const ping = whileRunning(sources.redisRoundTrip);
  new Gauge({
    name: 'mnemo_redis_up',
    help: 'Whether Redis answered a PING at scrape time (1) or not (0).',
    aggregator: 'min',
    registers: [registry],
    async collect() {
      this.set((await ping()) === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'mnemo_redis_ping_seconds',
    help: 'Round trip of a PING to Redis at scrape time (the last answered one while Redis is down).',
    aggregator: 'max',
    registers: [registry],
    async collect() {
      const seconds = await ping();
      if (seconds !== undefined) this.set(seconds);
    },
  });
}

/** Calls `fn` at most once at a time: callers arriving while a call runs share its result. */
function whileRunning<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () =>
    (running ??= fn().finally(() => {
      running = undefined;
    }));
}
