import { Pool } from 'undici';

/**
 * A closed-loop HTTP load generator on undici: `concurrency` loops each send one request, wait for the
 * whole answer, record its latency, and send the next. It runs for a number of requests or a duration;
 * latencies are kept exactly (no histogram buckets) so percentiles are exact.
 */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  origin: string;
  concurrency: number;
  /** Stop after this many requests... */
  requests?: number;
  /** ...or after this long. */
  durationMs?: number;
  /** Requests sent first and not measured. */
  warmup?: number;
  request: (i: number) => RequestSpec;
  /** Status expected of every answer (others count as errors). */
  expectStatus?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  /** Latencies in ms, sorted ascending. */
  latencies: Float64Array;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.origin, {
    connections: options.concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const expect = options.expectStatus ?? 200;
  let next = 0;
  const send = async (i: number): Promise<[number, boolean]> => {
    const spec = options.request(i);
    const started = process.hrtime.bigint();
    const res = await pool.request({
      method: spec.method,
      path: spec.path,
      headers: { 'content-type': 'application/json', ...(spec.headers ?? {}) },
      ...(spec.body !== undefined ? { body: spec.body } : {}),
    });
    await res.body.text();
    return [Number(process.hrtime.bigint() - started) / 1e6, res.statusCode === expect];
  };
  try {
    for (let i = 0; i < (options.warmup ?? 0); i++) await send(next++);
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
    const limit = options.requests ?? Infinity;
    let count = 0;
    const loop = async (): Promise<void> => {
      while (count < limit && performance.now() < deadline) {
        count++;
        const [ms, ok] = await send(next++);
        latencies.push(ms);
        if (!ok) errors++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, loop));
    const seconds = (performance.now() - started) / 1000;
    const sorted = Float64Array.from(latencies).sort();
    return {
      requests: latencies.length,
      errors,
      seconds,
      rps: latencies.length / seconds,
      latencies: sorted,
    };
  } finally {
    await pool.close();
  }
}

/** The value below which `p` percent of sorted values fall (nearest rank). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
