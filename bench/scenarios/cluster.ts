import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { randomHex } from '../../src/ids.js';
import { silentLogger } from '../../src/log.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/redis/embedded.js';
import { startTestCluster } from '../../test/helpers/redis-cluster.js';
import { Corpus } from '../lib/corpus.js';
import { percentile, runLoad, type LoadResult, type RequestSpec } from '../lib/load.js';
import { layerKey, startService } from '../lib/stack.js';
import type { ScenarioContext } from './types.js';

/**
 * One Redis against a Redis Cluster, and what MNEMO_REDIS_WAIT_REPLICAS=1 costs on each: the same
 * remember / recall load on four deployments, one after the other, each with a fresh mnemo process (a full
 * run goes through them twice, the second time in reverse order, and keeps the better pass of each load):
 *
 * - `single`:        one redis-server (AOF on) with one replica attached, asynchronous replication;
 * - `single_wait1`:  the same Redis, every write script followed by WAIT 1;
 * - `cluster`:       a local six-node cluster (three masters, three replicas, AOF on, the test helper's);
 * - `cluster_wait1`: the same cluster with WAIT 1.
 *
 * The replica of `single` makes WAIT answerable and keeps the two single rows comparable. Every process
 * (load generator, mnemo, seven or more redis-servers) shares the machine's cores, so a cluster here shows
 * the extra hop and routing cost, never the throughput of shards on machines of their own.
 */
const DEPLOYMENTS = ['single', 'single_wait1', 'cluster', 'cluster_wait1'] as const;
type Deployment = (typeof DEPLOYMENTS)[number];

interface Measured {
  deployment: Deployment;
  name: string;
  concurrency: number;
  result: LoadResult;
}

const post = (token: string, p: string, body: unknown): RequestSpec => ({
  method: 'POST',
  path: p,
  headers: { authorization: `Bearer ${token}` },
  body: JSON.stringify(body),
});

/** A primary and one replica attached to it (sharing one password), ready once the replica is in sync. */
async function startReplicatedRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'mnemo-bench-replicated-'));
  const bin = process.env.MNEMO_REDIS_SERVER ?? 'redis-server';
  const password = randomHex(24);
  const started: EmbeddedRedis[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((r) => r.stop()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    const primary = await startEmbeddedRedis({
      bin,
      dataDir: path.join(root, 'primary'),
      log: silentLogger,
      password,
    });
    started.push(primary);
    started.push(
      await startEmbeddedRedis({
        bin,
        dataDir: path.join(root, 'replica'),
        log: silentLogger,
        password,
        extraConfig: [`replicaof 127.0.0.1 ${primary.port}`, `masterauth ${password}`],
      }),
    );
    const probe = new Redis({ host: '127.0.0.1', port: primary.port, password });
    try {
      const deadline = Date.now() + 30_000;
      while (!/slave0:.*state=online/.test(await probe.info('replication'))) {
        if (Date.now() > deadline) throw new Error('the bench replica did not come in sync');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      probe.disconnect();
    }
    return { url: `redis://:${password}@127.0.0.1:${primary.port}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function measure(
  ctx: ScenarioContext,
  deployment: Deployment,
  redisUrl: string,
  corpus: Corpus,
): Promise<Measured[]> {
  const wait = deployment.endsWith('_wait1');
  const service = await startService(
    redisUrl,
    wait ? { MNEMO_REDIS_WAIT_REPLICAS: '1', MNEMO_REDIS_WAIT_TIMEOUT_MS: '1000' } : {},
  );
  const out: Measured[] = [];
  const keep = (name: string, concurrency: number, result: LoadResult): void => {
    out.push({ deployment, name, concurrency, result });
    const l = result.latencies;
    process.stderr.write(
      `  ${deployment} ${name} c${concurrency}: p50 ${percentile(l, 50).toFixed(2)} ms, ${result.rps.toFixed(0)} req/s\n`,
    );
  };
  /** The same request at concurrency 1 (a fixed count) and 32 (for the scenario's duration). */
  const measure = async (name: string, request: () => RequestSpec): Promise<void> => {
    const origin = service.url;
    keep(name, 1, await runLoad({ origin, concurrency: 1, requests: ctx.c1Requests, warmup: 50, request }));
    keep(name, 32, await runLoad({ origin, concurrency: 32, durationMs: ctx.durationMs, request }));
  };
  try {
    const url = service.url;
    const writeKey = await layerKey(url, `${ctx.run}-${deployment}-writes`);
    let n = 0;
    const remember = (): RequestSpec =>
      post(writeKey, '/v1/remember', { content: corpus.memory(n++), user_id: `u${n % 50}` });
    await measure('remember', remember);

    const readKey = await layerKey(url, `${ctx.run}-${deployment}-ws1k`);
    const seeded = await runLoad({
      origin: url,
      concurrency: 32,
      requests: 1000,
      request: (i) => post(readKey, '/v1/remember', { content: corpus.memory(i), importance: (i % 10) / 10 }),
    });
    if (seeded.errors > 0) throw new Error(`${deployment}: seeding had ${seeded.errors} errors`);
    let q = 0;
    const recall = (): RequestSpec => post(readKey, '/v1/recall', { query: corpus.query(q++), top_k: 10 });
    await measure('recall_1k', recall);
  } finally {
    await service.stop();
  }
  return out;
}

export async function clusterScenario(ctx: ScenarioContext): Promise<void> {
  const corpus = new Corpus(11);
  const runs: Measured[] = [];
  const single = await startReplicatedRedis();
  try {
    const cluster = await startTestCluster();
    try {
      const urls: Record<Deployment, string> = {
        single: single.url,
        single_wait1: single.url,
        cluster: cluster.url,
        cluster_wait1: cluster.url,
      };
      // The machine is shared and its load drifts: a full run measures every deployment twice, in one
      // order and then the reverse, and keeps the better of the two (the higher req/s) for each load.
      const orders = ctx.quick ? [DEPLOYMENTS] : [DEPLOYMENTS, [...DEPLOYMENTS].reverse()];
      for (const order of orders) {
        for (const deployment of order)
          runs.push(...(await measure(ctx, deployment, urls[deployment], corpus)));
      }
    } finally {
      await cluster.destroy();
    }
  } finally {
    await single.stop();
  }
  const best = new Map<string, Measured>();
  for (const m of runs) {
    const id = `${m.deployment} ${m.name} ${m.concurrency}`;
    const seen = best.get(id);
    if (!seen || m.result.rps > seen.result.rps) best.set(id, m);
  }
  const measured = [...best.values()];
  for (const m of measured) ctx.record(`${m.name}_${m.deployment}`, m.concurrency, m.result);
  ctx.figures.cluster_bench_passes = ctx.quick ? 1 : 2;
  process.stdout.write(`\n${sideBySide(measured)}\n`);
}

/** One line per load, the four deployments side by side: p50 / p95 / p99 ms and req/s. */
function sideBySide(measured: Measured[]): string {
  const loads = [...new Set(measured.map((m) => `${m.name} c${m.concurrency}`))];
  const cell = (m: Measured | undefined): string => {
    if (!m) return '–';
    const l = m.result.latencies;
    const errors = m.result.errors ? ` (${m.result.errors} errors)` : '';
    return (
      `${percentile(l, 50).toFixed(2)} / ${percentile(l, 95).toFixed(2)} / ${percentile(l, 99).toFixed(2)}` +
      ` · ${m.result.rps.toFixed(0)}/s${errors}`
    );
  };
  return [
    `| load (p50 / p95 / p99 ms · req/s) | ${DEPLOYMENTS.join(' | ')} |`,
    `| --- | ${DEPLOYMENTS.map(() => '---').join(' | ')} |`,
    ...loads.map(
      (load) =>
        `| ${load} | ${DEPLOYMENTS.map((d) =>
          cell(measured.find((m) => m.deployment === d && `${m.name} c${m.concurrency}` === load)),
        ).join(' | ')} |`,
    ),
  ].join('\n');
}
