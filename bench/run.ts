import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { PROJECT_ROOT } from '../src/paths.js';
import { Corpus } from './lib/corpus.js';
import { percentile, runLoad, type LoadResult, type RequestSpec } from './lib/load.js';
import { BENCH_ADMIN_KEY, layerKey, startRedis, startService, type ServiceProcess } from './lib/stack.js';
import { clusterScenario } from './scenarios/cluster.js';
import { engramScenarios } from './scenarios/engram.js';
import { fanoutScenario } from './scenarios/fanout.js';
import { insightsScenario } from './scenarios/insights.js';
import { webhookScenario } from './scenarios/webhooks.js';
import type { ScenarioContext } from './scenarios/types.js';
import { requestLogStudy } from './scenarios/request-log.js';
import { scaleRun } from './scenarios/scale.js';

/**
 * `npm run bench`: starts its own redis-server and mnemo (the built service) unless URLs are given, seeds
 * data, and measures every scenario with a real HTTP load generator and real WebSocket clients. Each
 * latency is also reported as a ratio to the floor measured in the same run (GET /health through the same
 * client), because this machine is noisy and ratios are what compare across runs.
 *
 *   npm run bench                       full run (~5 minutes on 2 cores)
 *   npm run bench -- --quick            smaller workspaces and shorter runs, for a smoke test
 *   npm run bench -- --processes 2      the service with MNEMO_PROCESSES=2 (throughput on several cores)
 *   npm run bench -- --request-log      remember/recall throughput with MNEMO_LOG_REQUESTS=off and =all
 *   npm run bench -- --url http://host:7700 --redis-url redis://host:6379   against running services
 *   npm run bench -- --only webhooks    one scenario (webhooks | engram | fanout) after a quick setup
 *   npm run bench -- --quick --only insights   GET /api/v1/admin/insights of a 10k-engram organisation
 *   npm run bench -- --only cluster     one Redis vs a local Redis Cluster, each also with WAIT 1 (~3 min)
 *   npm run bench -- --scale            the scale scenarios (1M memories; 10k workspaces), see scenarios/scale.ts
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

interface Row {
  scenario: string;
  concurrency: number;
  p50: number;
  p95: number;
  p99: number;
  rps: number;
  errors: number;
}

const figures: Record<string, number | string> = {};
const rows: Row[] = [];
let floorP50 = 1;

const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

function record(name: string, concurrency: number, result: LoadResult): void {
  const row: Row = {
    scenario: name,
    concurrency,
    p50: percentile(result.latencies, 50),
    p95: percentile(result.latencies, 95),
    p99: percentile(result.latencies, 99),
    rps: result.rps,
    errors: result.errors,
  };
  rows.push(row);
  const key = `${name}_c${concurrency}`;
  figures[`${key}_p50_ms`] = round(row.p50);
  figures[`${key}_p95_ms`] = round(row.p95);
  figures[`${key}_p99_ms`] = round(row.p99);
  figures[`${key}_rps`] = round(row.rps, 1);
  if (row.errors > 0) figures[`${key}_errors`] = row.errors;
  if (name !== 'health') figures[`${key}_p50_floor_ratio`] = round(row.p50 / floorP50, 2);
  process.stderr.write(
    `${key.padEnd(28)} p50 ${row.p50.toFixed(2)} ms  p95 ${row.p95.toFixed(2)}  p99 ${row.p99.toFixed(2)}  ${row.rps.toFixed(0)} req/s${row.errors ? `  ERRORS ${row.errors}` : ''}\n`,
  );
}

const post = (token: string, p: string, body: unknown): RequestSpec => ({
  method: 'POST',
  path: p,
  headers: { authorization: `Bearer ${token}` },
  body: JSON.stringify(body),
});

async function seed(url: string, token: string, count: number, corpus: Corpus): Promise<number> {
  const result = await runLoad({
    origin: url,
    concurrency: 64,
    requests: count,
    request: (i) => post(token, '/v1/remember', { content: corpus.memory(i), importance: (i % 10) / 10 }),
  });
  if (result.errors > 0) throw new Error(`seeding had ${result.errors} errors`);
  return result.rps;
}

async function redisPing(redisUrl: string, count: number): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (let i = 0; i < 200; i++) await redis.ping();
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint();
      await redis.ping();
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const sorted = Float64Array.from(latencies).sort();
    figures.redis_ping_p50_ms = round(percentile(sorted, 50));
    figures.redis_ping_p99_ms = round(percentile(sorted, 99));
    process.stderr.write(
      `redis PING                   p50 ${figures.redis_ping_p50_ms} ms  p99 ${figures.redis_ping_p99_ms}\n`,
    );
  } finally {
    redis.disconnect();
  }
}

async function metrics(url: string): Promise<{
  rss_bytes: number;
  indexes: { by_workspace: { workspace: string; docs: number; vectors: number; bytes: number }[] };
}> {
  const res = await fetch(`${url}/admin/metrics`, {
    headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` },
  });
  return (await res.json()) as Awaited<ReturnType<typeof metrics>>;
}

async function main(): Promise<void> {
  if (args.includes('--request-log')) return requestLogStudy(quick);
  if (args.includes('--scale')) return scaleRun(args);
  const sizes = quick
    ? { small: 1000, medium: 3000, large: 10_000 }
    : { small: 1000, medium: 10_000, large: 100_000 };
  const c1Requests = quick ? 300 : 1500;
  const durationMs = quick ? 2000 : 8000;
  const label = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));

  const givenUrl = argValue('--url');
  const redis = givenUrl ? undefined : await startRedis();
  const redisUrl = argValue('--redis-url') ?? redis?.url;
  if (!redisUrl) throw new Error('with --url, also give --redis-url');
  if (!givenUrl) execFileSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const processes = argValue('--processes') ?? '1';
  figures.service_processes = Number(processes);
  const service: ServiceProcess | undefined = givenUrl
    ? undefined
    : await startService(redisUrl, { MNEMO_PROCESSES: processes });
  const url = givenUrl ?? (service as ServiceProcess).url;
  const run = `b${Date.now().toString(36)}`;
  const corpus = new Corpus(7);

  try {
    // One scenario alone: its figures go to stdout, the results file is left as the last full run wrote it.
    const only = argValue('--only');
    if (only !== undefined) {
      const scenarios: Record<string, (context: ScenarioContext) => Promise<void>> = {
        webhooks: webhookScenario,
        engram: engramScenarios,
        fanout: fanoutScenario,
        insights: insightsScenario,
        cluster: clusterScenario,
      };
      const chosen = scenarios[only];
      if (!chosen) throw new Error(`--only takes one of ${Object.keys(scenarios).join(', ')}`);
      await chosen({ url, run, quick, c1Requests, durationMs, record, figures });
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
      return;
    }
    // Floors: the trivial route through the same client, and a Redis round trip.
    record(
      'health',
      1,
      await runLoad({
        origin: url,
        concurrency: 1,
        requests: c1Requests * 2,
        warmup: 200,
        request: () => ({ method: 'GET', path: '/health' }),
      }),
    );
    floorP50 = rows[0]!.p50;
    figures.floor_p50_ms = round(floorP50);
    record(
      'health',
      32,
      await runLoad({
        origin: url,
        concurrency: 32,
        durationMs,
        request: () => ({ method: 'GET', path: '/health' }),
      }),
    );
    await redisPing(redisUrl, 2000);

    // Writes.
    const writeKey = await layerKey(url, `${run}-writes`);
    let n = 0;
    const rememberSpec = (): RequestSpec =>
      post(writeKey, '/v1/remember', { content: corpus.memory(n++), user_id: `u${n % 50}` });
    record(
      'remember',
      1,
      await runLoad({
        origin: url,
        concurrency: 1,
        requests: c1Requests,
        warmup: 100,
        request: rememberSpec,
      }),
    );
    record(
      'remember',
      64,
      await runLoad({ origin: url, concurrency: 64, durationMs, request: rememberSpec }),
    );

    // Recall on workspaces of three sizes.
    const keys: Record<string, string> = {};
    for (const size of [sizes.small, sizes.medium, sizes.large]) {
      keys[label(size)] = await layerKey(url, `${run}-ws${label(size)}`);
      const started = performance.now();
      const rps = await seed(url, keys[label(size)] as string, size, corpus);
      process.stderr.write(
        `seeded ${label(size)} memories in ${((performance.now() - started) / 1000).toFixed(1)} s (${rps.toFixed(0)}/s)\n`,
      );
      if (size === sizes.large) figures[`seed_${label(size)}_rps`] = round(rps, 1);
    }
    let q = 0;
    for (const size of [sizes.small, sizes.medium, sizes.large]) {
      const key = keys[label(size)] as string;
      const spec = (): RequestSpec => post(key, '/v1/recall', { query: corpus.query(q++), top_k: 10 });
      record(
        `recall_${label(size)}`,
        1,
        await runLoad({ origin: url, concurrency: 1, requests: c1Requests, warmup: 50, request: spec }),
      );
      record(
        `recall_${label(size)}`,
        32,
        await runLoad({ origin: url, concurrency: 32, durationMs, request: spec }),
      );
    }
    const mediumKey = keys[label(sizes.medium)] as string;
    const keyword = (): RequestSpec =>
      post(mediumKey, '/v1/recall', { query: corpus.query(q++), top_k: 10, mode: 'keyword' });
    record(
      `recall_keyword_${label(sizes.medium)}`,
      1,
      await runLoad({ origin: url, concurrency: 1, requests: c1Requests, request: keyword }),
    );
    record(
      `recall_keyword_${label(sizes.medium)}`,
      32,
      await runLoad({ origin: url, concurrency: 32, durationMs, request: keyword }),
    );
    const cached = post(mediumKey, '/v1/recall', { query: 'project deploy database', top_k: 10 });
    record(
      `recall_cached_${label(sizes.medium)}`,
      1,
      await runLoad({ origin: url, concurrency: 1, requests: c1Requests, warmup: 10, request: () => cached }),
    );
    const context = (): RequestSpec =>
      post(mediumKey, '/v1/context', { query: corpus.query(q++), token_budget: 2048 });
    record(
      `context_${label(sizes.medium)}`,
      1,
      await runLoad({ origin: url, concurrency: 1, requests: c1Requests, request: context }),
    );
    record(
      `context_${label(sizes.medium)}`,
      32,
      await runLoad({ origin: url, concurrency: 32, durationMs, request: context }),
    );

    // Memory: RSS and the index of the largest workspace.
    const m = await metrics(url);
    const large = m.indexes.by_workspace.find((w) => w.workspace === `${run}-ws${label(sizes.large)}`);
    if (large) {
      figures[`index_${label(sizes.large)}_docs`] = large.docs;
      figures[`index_${label(sizes.large)}_bytes`] = large.bytes;
      figures.index_bytes_per_doc = round(large.bytes / large.docs, 1);
    }
    figures.rss_bytes = m.rss_bytes;

    // Cold start: a fresh instance answers its first recall on the large workspace.
    if (!givenUrl) {
      const fresh = await startService(redisUrl);
      try {
        const started = performance.now();
        const res = await fetch(`${fresh.url}/v1/recall`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${keys[label(sizes.large)]}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ query: 'project deploy', top_k: 10 }),
        });
        await res.text();
        figures[`cold_start_${label(sizes.large)}_ms`] = round(performance.now() - started, 1);
        figures[`cold_start_${label(sizes.large)}_rss_bytes`] = await fresh.rssBytes();
        process.stderr.write(
          `cold start ${label(sizes.large)}: first recall after ${figures[`cold_start_${label(sizes.large)}_ms`]} ms\n`,
        );
      } finally {
        await fresh.stop();
      }
    }

    // Engram API and WebSocket fan-out.
    const scenario = { url, run, quick, c1Requests, durationMs, record, figures };
    await engramScenarios(scenario);
    await fanoutScenario(scenario);
    await webhookScenario(scenario);
    await insightsScenario(scenario);
  } finally {
    await service?.stop();
    await redis?.stop();
  }

  figures.machine_cores = os.cpus().length;
  figures.machine_cpu = os.cpus()[0]?.model ?? 'unknown';
  figures.node_version = process.version;
  figures.redis_version = redis?.redis.version ?? 'external';
  figures.git_commit = gitCommit();
  figures.mode = quick ? 'quick' : 'full';
  figures.date = new Date().toISOString();
  writeResults();
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
}

function writeResults(): void {
  const table = [
    `| scenario | conc. | p50 ms | p95 ms | p99 ms | req/s | p50 / floor |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.concurrency} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.rps.toFixed(0)} | ${(r.p50 / floorP50).toFixed(1)} |`,
    ),
  ].join('\n');
  const extras = Object.entries(figures)
    .filter(([k]) => !/_c\d+_/.test(k))
    .map(([k, v]) => `| ${k} | ${v} |`)
    .join('\n');
  process.stdout.write(`\n${table}\n\n| figure | value |\n| --- | --- |\n${extras}\n`);
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(figures, null, 2)}\n`);
  writeFileSync(path.join(dir, 'latest.md'), `${table}\n\n| figure | value |\n| --- | --- |\n${extras}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
