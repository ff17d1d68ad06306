import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { randomHex } from '../../src/ids.js';
import { silentLogger } from '../../src/log.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/redis/embedded.js';

/**
 * A local Redis Cluster of the tests' own: six redis-server processes (three masters, three replicas), each
 * on a free port with its own temp directory and AOF on, sharing one password, joined with
 * `redis-cli --cluster create … --cluster-replicas 1`. Ready once every node reports `cluster_state:ok` and
 * every master has its replica attached. `destroy` stops every node by pid and deletes the files.
 */
export interface TestCluster {
  /** redis-cluster://:<password>@127.0.0.1:<p1>,… (the three masters as seeds). */
  url: string;
  password: string;
  nodes: EmbeddedRedis[];
  destroy(): Promise<void>;
}

const NODE_COUNT = 6;
const READY_TIMEOUT_MS = 60_000;

export async function startTestCluster(): Promise<TestCluster> {
  const bin = process.env.MNEMO_REDIS_SERVER ?? 'redis-server';
  const password = randomHex(24);
  const root = await mkdtemp(path.join(os.tmpdir(), 'mnemo-test-cluster-'));
  const nodes: EmbeddedRedis[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < NODE_COUNT; i++) {
      nodes.push(
        await startEmbeddedRedis({
          bin,
          dataDir: path.join(root, `node-${i}`),
          log: silentLogger,
          password,
          extraConfig: [
            'cluster-enabled yes',
            'cluster-config-file nodes.conf',
            'cluster-node-timeout 2000',
            `masterauth ${password}`,
          ],
        }),
      );
    }
    await run(redisCliBin(), [
      '-a', password, '--no-auth-warning',
      '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas', '1', '--cluster-yes',
    ]); // prettier-ignore
    await waitUntilFormed(nodes, password);
    const seeds = nodes.slice(0, 3).map((n) => `127.0.0.1:${n.port}`);
    return { url: `redis-cluster://:${password}@${seeds.join(',')}`, password, nodes, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** The redis-cli beside the redis-server the helper starts (MNEMO_REDIS_CLI overrides it). */
function redisCliBin(): string {
  const bin = process.env.MNEMO_REDIS_SERVER ?? 'redis-server';
  const cli = process.env.MNEMO_REDIS_CLI ?? path.join(path.dirname(bin), 'redis-cli');
  return bin.includes('/') || process.env.MNEMO_REDIS_CLI ? cli : 'redis-cli';
}

/**
 * Moves `slots` hash slots from one master to another with `redis-cli --cluster reshard` (the operator's
 * tool: SETSLOT IMPORTING / MIGRATING, MIGRATE of the slot's keys, SETSLOT NODE). redis-cli takes the
 * source's lowest-numbered slots first.
 */
export async function reshard(
  cluster: TestCluster,
  from: { port: number },
  to: { port: number },
  slots = 1,
): Promise<void> {
  const ids = await Promise.all(
    [from, to].map(async (node) => {
      const probe = new Redis({ host: '127.0.0.1', port: node.port, password: cluster.password });
      try {
        return await probe.cluster('MYID');
      } finally {
        probe.disconnect();
      }
    }),
  );
  await run(redisCliBin(), [
    '-a', cluster.password, '--no-auth-warning',
    '--cluster', 'reshard', `127.0.0.1:${from.port}`,
    '--cluster-from', ids[0] as string, '--cluster-to', ids[1] as string,
    '--cluster-slots', String(slots), '--cluster-yes',
  ]); // prettier-ignore
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.slice(3).join(' ')} failed: ${stderr || stdout}`));
      else resolve();
    });
  });
}

/** Every node agrees the cluster is ok, and three replicas are attached and in sync with their masters. */
async function waitUntilFormed(nodes: EmbeddedRedis[], password: string): Promise<void> {
  const clients = nodes.map(
    (n) => new Redis({ host: '127.0.0.1', port: n.port, password, lazyConnect: false }),
  );
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const infos = await Promise.all(clients.map((c) => c.cluster('INFO')));
      const replication = await Promise.all(clients.map((c) => c.info('replication')));
      const ok = infos.every((info) => info.includes('cluster_state:ok'));
      const synced = replication.filter(
        (r) => /role:slave/.test(r) && /master_link_status:up/.test(r),
      ).length;
      if (ok && synced === NODE_COUNT / 2) return;
      if (Date.now() > deadline) throw new Error(`the test cluster did not form: ${infos[0]}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    clients.forEach((c) => c.disconnect());
  }
}
