import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { PROJECT_ROOT } from '../../src/paths.js';
import { Corpus, prng } from '../lib/corpus.js';
import { percentile, runLoad, type LoadResult, type RequestSpec } from '../lib/load.js';
import { seedDirect } from '../lib/seed-direct.js';
import { Keys } from '../../src/redis/keys.js';
import { layerTenant } from '../../src/tenant.js';
import { BENCH_ADMIN_KEY, layerKey, startRedis, startService, type ServiceProcess } from '../lib/stack.js';

/**
 * `npm run bench -- --scale [--quick] [--only-scale large|tenants]`: the scale scenarios of issue 16, on
 * their own redis-server and service processes (not part of the default run: seeding alone moves 2 GB).
 *
 *   large    one workspace of 1,000,000 memories (builtin embedder), seeded straight into Redis: cold
 *            start (first recall on an instance that holds nothing and finds no snapshot), the time until
 *            that instance's index snapshot is committed (polling its meta key), recall p50/p99 at
 *            concurrency 1, index bytes per document; then the cold start of a second fresh instance,
 *            which restores the snapshot.
 *   tenants  10,000 workspaces × 100 memories, MNEMO_INDEX_MAX_BYTES=64 MB, recall requests spread
 *            Zipf(s = 1.1) over the workspaces at concurrency 1: p50/p99 including cold loads, index hit
 *            ratio (recalls that found their index in memory), loads per second, RSS.
 *
 * --quick uses 100,000 memories and 1,000 workspaces. Figures go to stdout as JSON.
 */
const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

export async function scaleRun(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const i = args.indexOf('--only-scale');
  const only = i >= 0 ? args[i + 1] : undefined;
  if (only !== undefined && only !== 'large' && only !== 'tenants')
    throw new Error('--only-scale takes large or tenants');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const figures: Record<string, number | string> = { mode: quick ? 'quick' : 'full' };
  const redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    if (only !== 'tenants') await largeWorkspace(redis.url, client, quick, figures);
    if (only !== 'large') {
      // Each scenario on an empty Redis: the 1M workspace would otherwise compete for its memory.
      await client.flushall();
      await manyWorkspaces(redis.url, client, quick, figures);
    }
  } finally {
    client.disconnect();
    await redis.stop();
  }
  figures.date = new Date().toISOString();
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}

const recallSpec = (key: string, query: string): RequestSpec => ({
  method: 'POST',
  path: '/v1/recall',
  headers: { authorization: `Bearer ${key}` },
  body: JSON.stringify({ query, top_k: 10 }),
});

function report(figures: Record<string, number | string>, name: string, result: LoadResult): void {
  figures[`${name}_p50_ms`] = round(percentile(result.latencies, 50));
  figures[`${name}_p95_ms`] = round(percentile(result.latencies, 95));
  figures[`${name}_p99_ms`] = round(percentile(result.latencies, 99));
  figures[`${name}_max_ms`] = round(percentile(result.latencies, 100));
  figures[`${name}_rps`] = round(result.rps, 1);
  figures[`${name}_errors`] = result.errors;
  process.stderr.write(
    `${name.padEnd(24)} p50 ${figures[`${name}_p50_ms`]} ms  p99 ${figures[`${name}_p99_ms`]}  ${figures[`${name}_rps`]} req/s  errors ${result.errors}\n`,
  );
}

async function adminMetrics(url: string): Promise<{
  rss_bytes: number;
  indexes: {
    workspaces: number;
    bytes: number;
    by_workspace: { workspace: string; docs: number; bytes: number; partitioned: boolean }[];
  };
}> {
  const res = await fetch(`${url}/admin/metrics`, {
    headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` },
  });
  return (await res.json()) as Awaited<ReturnType<typeof adminMetrics>>;
}

/** One counter of GET /metrics (Prometheus text), summed over its label sets (or those with `label`). */
async function counter(url: string, name: string, label = ''): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` } });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    if (label === '' || line.includes(label)) sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** The first recall of a workspace on an instance: how long until it answered, in ms. */
async function coldRecall(url: string, key: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/recall`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'project deploy', top_k: 10 }),
  });
  if (!res.ok) throw new Error(`cold recall failed: ${res.status} ${await res.text()}`);
  await res.text();
  return round(performance.now() - started, 1);
}

/**
 * Polls the workspace's snapshot meta until it names a generation (the first instance committed one),
 * and with `partitioned` until that generation holds the vector partitions; returns its bytes.
 */
async function snapshotCommitted(
  client: Redis,
  workspace: string,
  timeoutMs: number,
  partitioned = false,
): Promise<number> {
  const meta = new Keys().indexSnapshotMeta(layerTenant(workspace));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [gen, parts] = await client.hmget(meta, 'gen', 'partitioned');
    if (gen !== null && (!partitioned || parts === '1')) break;
    if (Date.now() > deadline) throw new Error(`no index snapshot committed within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (JSON.parse((await client.hget(meta, 'info')) ?? '{}') as { bytes: number }).bytes;
}

/** Seconds until the instance's index of `workspace` scans vector partitions (polling its metrics). */
async function partitionedAfter(url: string, workspace: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    const held = (await adminMetrics(url)).indexes.by_workspace.find((w) => w.workspace === workspace);
    if (!held || held.partitioned || performance.now() - started > 600_000) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return round((performance.now() - started) / 1000, 1);
}

const recallLoad = (url: string, key: string, quick: boolean): Promise<LoadResult> => {
  let q = 0;
  const queries = new Corpus(19);
  return runLoad({
    origin: url,
    concurrency: 1,
    requests: quick ? 300 : 1000,
    warmup: 30,
    request: () => recallSpec(key, queries.query(q++)),
  });
};

async function largeWorkspace(
  redisUrl: string,
  client: Redis,
  quick: boolean,
  figures: Record<string, number | string>,
): Promise<void> {
  const count = quick ? 100_000 : 1_000_000;
  const label = quick ? '100k' : '1m';
  const workspace = `scale-${label}`;
  const corpus = new Corpus(7);
  let started = performance.now();
  await seedDirect(client, corpus, { workspace, count });
  figures[`large_${label}_seed_s`] = round((performance.now() - started) / 1000, 1);
  process.stderr.write(`seeded ${count} memories in ${figures[`large_${label}_seed_s`]} s\n`);

  // Cold start: an instance that holds nothing (and finds no snapshot) answers its first recall.
  const service: ServiceProcess = await startService(redisUrl);
  let key: string;
  try {
    key = await layerKey(service.url, workspace);
    figures[`large_${label}_cold_start_ms`] = await coldRecall(service.url, key);
    process.stderr.write(
      `cold start ${label}: first recall after ${figures[`large_${label}_cold_start_ms`]} ms\n`,
    );
    // The instance writes the index's snapshot in the background; recall figures are taken after it.
    started = performance.now();
    figures[`large_${label}_snapshot_bytes`] = await snapshotCommitted(client, workspace, 600_000);
    figures[`large_${label}_snapshot_written_s`] = round((performance.now() - started) / 1000, 1);
    process.stderr.write(
      `snapshot ${label}: committed ${figures[`large_${label}_snapshot_written_s`]} s after the cold start\n`,
    );

    // Past MNEMO_VECTOR_PARTITION_MIN the instance partitions the vectors in the background (recalls
    // meanwhile scan every vector): measured is the steady state, after it.
    figures[`large_${label}_partitioned_after_s`] = await partitionedAfter(service.url, workspace);
    process.stderr.write(`vectors partitioned ${figures[`large_${label}_partitioned_after_s`]} s later\n`);
    // Then it writes the snapshot again, with the partitions (what the second instance restores). A
    // snapshot write at 1M costs GC pauses of up to ~0.5 s (README): recall is timed after it.
    figures[`large_${label}_snapshot_partitioned_bytes`] = await snapshotCommitted(
      client,
      workspace,
      600_000,
      true,
    );
    report(figures, `large_${label}_recall_c1`, await recallLoad(service.url, key, quick));
    const m = await adminMetrics(service.url);
    const index = m.indexes.by_workspace.find((w) => w.workspace === workspace);
    if (index) {
      figures[`large_${label}_index_docs`] = index.docs;
      figures[`large_${label}_index_bytes`] = index.bytes;
      figures[`large_${label}_index_bytes_per_doc`] = round(index.bytes / index.docs, 1);
    }
    figures[`large_${label}_rss_bytes`] = m.rss_bytes;
  } finally {
    await service.stop();
  }

  // Cold start from the snapshot: a second fresh instance restores it and catches up from the stream.
  const second = await startService(redisUrl);
  try {
    figures[`large_${label}_cold_start_snapshot_ms`] = await coldRecall(second.url, key);
    const restored = await counter(
      second.url,
      'mnemo_search_index_snapshot_loads_total',
      'outcome="restored"',
    );
    if (restored !== 1) throw new Error(`the second instance did not restore the snapshot (${restored})`);
    process.stderr.write(
      `cold start ${label} from the snapshot: first recall after ${figures[`large_${label}_cold_start_snapshot_ms`]} ms\n`,
    );
    const m = await adminMetrics(second.url);
    figures[`large_${label}_rss_bytes_after_restore`] = m.rss_bytes;
    // The restored partitions are laid out in the background (no training).
    figures[`large_${label}_restored_partitioned_after_s`] = await partitionedAfter(second.url, workspace);
    report(figures, `large_${label}_recall_c1_restored`, await recallLoad(second.url, key, quick));
  } finally {
    await second.stop();
  }
}

/** Zipf(s) over 1..n by inverse transform on the cumulative weights. */
function zipf(n: number, s: number, seed: number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cumulative[k] = sum;
  }
  const random = prng(seed);
  return () => {
    const r = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function manyWorkspaces(
  redisUrl: string,
  client: Redis,
  quick: boolean,
  figures: Record<string, number | string>,
): Promise<void> {
  const workspaces = quick ? 1000 : 10_000;
  const perWorkspace = 100;
  const maxBytes = 64 * 1024 * 1024;
  const label = quick ? '1k' : '10k';
  const corpus = new Corpus(23);
  let started = performance.now();
  for (let w = 0; w < workspaces; w++) {
    await seedDirect(client, corpus, {
      workspace: `tenant-${w}`,
      count: perWorkspace,
      first: w * perWorkspace,
    });
  }
  figures[`tenants_${label}_seed_s`] = round((performance.now() - started) / 1000, 1);
  const service = await startService(redisUrl, { MNEMO_INDEX_MAX_BYTES: String(maxBytes) });
  try {
    // One key per workspace, created in parallel batches.
    const keys: string[] = new Array<string>(workspaces);
    for (let w = 0; w < workspaces; w += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, workspaces - w) }, async (_, j) => {
          keys[w + j] = await layerKey(service.url, `tenant-${w + j}`);
        }),
      );
    }
    process.stderr.write(
      `seeded ${workspaces} workspaces × ${perWorkspace} in ${figures[`tenants_${label}_seed_s`]} s (keys included: ${round((performance.now() - started) / 1000, 1)} s)\n`,
    );
    // The workspace ranks are shuffled so the most requested ones are not the first seeded.
    const order = Array.from({ length: workspaces }, (_, k) => k);
    const shuffle = prng(5);
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(shuffle() * (k + 1));
      [order[k], order[j]] = [order[j] as number, order[k] as number];
    }
    const pick = zipf(workspaces, 1.1, 9);
    const queries = new Corpus(29);
    let q = 0;
    const loadsBefore = await counter(service.url, 'mnemo_search_index_loads_total');
    const evictionsBefore = await counter(service.url, 'mnemo_search_index_evictions_total');
    started = performance.now();
    const result = await runLoad({
      origin: service.url,
      concurrency: 1,
      requests: quick ? 3000 : 20_000,
      request: () => recallSpec(keys[order[pick()] as number] as string, queries.query(q++)),
    });
    const seconds = (performance.now() - started) / 1000;
    report(figures, `tenants_${label}_recall_zipf_c1`, result);
    const loads = (await counter(service.url, 'mnemo_search_index_loads_total')) - loadsBefore;
    const evictions = (await counter(service.url, 'mnemo_search_index_evictions_total')) - evictionsBefore;
    figures[`tenants_${label}_index_loads`] = loads;
    figures[`tenants_${label}_index_evictions`] = evictions;
    figures[`tenants_${label}_index_hit_ratio`] = round(1 - loads / result.requests, 4);
    figures[`tenants_${label}_index_loads_per_s`] = round(loads / seconds, 1);
    const m = await adminMetrics(service.url);
    figures[`tenants_${label}_indexes_held`] = m.indexes.workspaces;
    figures[`tenants_${label}_index_bytes`] = m.indexes.bytes;
    figures[`tenants_${label}_rss_bytes`] = m.rss_bytes;
    process.stderr.write(
      `tenants ${label}: hit ratio ${figures[`tenants_${label}_index_hit_ratio`]}, ${loads} loads (${figures[`tenants_${label}_index_loads_per_s`]}/s), ${m.indexes.workspaces} indexes held, RSS ${(m.rss_bytes / 2 ** 20).toFixed(0)} MB\n`,
    );
  } finally {
    await service.stop();
  }
}
