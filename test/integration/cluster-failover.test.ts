import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { connectEvents, type EventClient } from '../helpers/ws.js';

/**
 * Failover on a real Redis Cluster (its own six nodes, not the cluster project's shared one): the master
 * that holds a busy workspace is killed with -9 while writes and recalls run. The service answers 503,
 * never 500, while the replica is promoted, and serves again by itself; a socket on another instance keeps
 * receiving the workspace's events (its shard subscription moves to the promoted replica). Acknowledged
 * writes lost in the asynchronous-replication window are counted; with MNEMO_REDIS_WAIT_REPLICAS=1 there
 * are none.
 */
let cluster: TestCluster;
/** Pids of the masters a test killed: probes must go to a node that still runs. */
const killed = new Set<number>();

function liveNode(): { port: number } {
  const node = cluster.nodes.find((n) => !killed.has(n.pid));
  if (!node) throw new Error('no live node');
  return node;
}

interface Outcome {
  statuses: Map<number, number>;
  acknowledged: string[];
  lost: number;
  recoveredMs: number;
}

/** The pid of the master serving `workspace`'s hash slot. */
async function masterOf(workspace: string): Promise<number> {
  const probe = new Redis({ host: '127.0.0.1', port: liveNode().port, password: cluster.password });
  try {
    const slot = await probe.cluster('KEYSLOT', `{${workspace}}`);
    const ranges = await probe.cluster('SLOTS');
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    const node = cluster.nodes.find((n) => n.port === range?.[2]?.[1]);
    if (!node) throw new Error(`no master for slot ${slot}`);
    return node.pid;
  } finally {
    probe.disconnect();
  }
}

/** A workspace whose master is alive and has its replica attached (an earlier test may have killed one). */
async function replicatedWorkspace(name: string, onMaster?: number): Promise<string> {
  for (;;) {
    const workspace = uniqueWorkspace(name);
    const pid = await masterOf(workspace);
    if (onMaster !== undefined && pid !== onMaster) continue;
    const node = cluster.nodes.find((n) => n.pid === pid);
    if (!node || killed.has(pid)) continue;
    const probe = new Redis({ host: '127.0.0.1', port: node.port, password: cluster.password });
    const replication = await probe.info('replication').finally(() => probe.disconnect());
    if (/connected_slaves:[1-9]/.test(replication)) return workspace;
  }
}

/**
 * Writes (one at a time) and recalls run; after 20 acknowledged writes the workspace's master is killed.
 * The run ends once writes failed and then succeeded 10 more times, or after `afterKillMs` at most.
 */
async function killMasterUnderLoad(
  server: TestServer,
  workspace: string,
  afterKillMs = 90_000,
  watcher?: TestServer,
): Promise<Outcome> {
  // The key is made without WAIT: the first test's failover left its promoted master without a replica,
  // and the key records may live there.
  const plain = await startServer({ redisUrl: cluster.url });
  const key = await createLayerKey(plain, workspace).finally(() => plain.close());
  // A socket on another instance follows the workspace: its shard subscription lives on the master that
  // is killed, so it must move to the promoted replica.
  let socket: EventClient | undefined;
  if (watcher) {
    socket = await connectEvents(watcher, key);
    await socket.subscribe({ types: ['memory.working.added'] });
  }
  const contents = new Map<string, string>();
  const statuses = new Map<number, number>();
  const acknowledged: string[] = [];
  const count = (status: number): void => void statuses.set(status, (statuses.get(status) ?? 0) + 1);
  let stop = false;
  let killedAt = 0;
  let recoveredAt = 0;
  let failedSinceKill = false;
  const remember = async (i: number): Promise<number> => {
    const res = await server.request('POST', '/v1/remember', {
      token: key,
      body: { content: `failover note ${i} about herons`, user_id: 'u1' },
    });
    count(res.status);
    if (res.status === 200) {
      acknowledged.push(res.json.episodic.id as string);
      contents.set(res.json.episodic.id as string, `failover note ${i} about herons`);
    }
    return res.status;
  };
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      const status = await remember(i);
      if (killedAt && status !== 200) failedSinceKill = true;
      if (killedAt && failedSinceKill && status === 200 && !recoveredAt) recoveredAt = Date.now();
    }
  })();
  const reader = (async () => {
    while (!stop) {
      const res = await server.request('POST', '/v1/recall', { token: key, body: { query: 'herons' } });
      count(res.status);
    }
  })();
  // Some acknowledged traffic first, then the master goes.
  const deadline = Date.now() + 60_000;
  while (acknowledged.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const victim = await masterOf(workspace);
  killed.add(victim);
  process.kill(victim, 'SIGKILL');
  killedAt = Date.now();
  // Until writes fail and then succeed again by themselves, or (a failover nobody noticed) 100 more writes.
  const until = Date.now() + afterKillMs;
  const ackedAtKill = acknowledged.length;
  while (Date.now() < until && !(recoveredAt && acknowledged.length > ackedAtKill + 10)) {
    if (!failedSinceKill && acknowledged.length > ackedAtKill + 100) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  stop = true;
  await Promise.all([writer, reader]);
  let lost = 0;
  const kept: string[] = [];
  for (const id of acknowledged) {
    const res = await server.request('GET', `/v1/memory/${id}`, { token: key });
    if (res.status === 404) lost++;
    else {
      expect(res.status).toBe(200);
      kept.push(contents.get(id) as string);
    }
  }
  if (socket) {
    try {
      // Every write that survived reached the socket (live, or from the stream once the shard
      // subscription moved), and a new write still does.
      for (const content of kept) await socket.waitFor((f) => f.data?.content === content, 30_000);
      const res = await server.request('POST', '/v1/remember', {
        token: key,
        body: { content: 'heard after the failover', user_id: 'u1' },
      });
      expect(res.status).toBe(200);
      await socket.waitFor((f) => f.data?.content === 'heard after the failover', 30_000);
    } finally {
      await socket.close();
    }
  }
  return { statuses, acknowledged, lost, recoveredMs: recoveredAt ? recoveredAt - killedAt : 0 };
}

describe('a Redis Cluster master killed with -9 under load', () => {
  beforeAll(async () => {
    cluster = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('answers 503 (never 500) while the replica is promoted, then serves again by itself', async () => {
    const server = await startServer({ redisUrl: cluster.url });
    const watcher = await startServer({ redisUrl: cluster.url });
    try {
      // The first node (a master: redis-cli makes the first three masters) goes, so the later probes must
      // find a node that still runs.
      const first = cluster.nodes[0]?.pid;
      const workspace = await replicatedWorkspace('failover', first);
      const outcome = await killMasterUnderLoad(server, workspace, 90_000, watcher);
      const seen = [...outcome.statuses.keys()].sort();
      console.info(
        `failover: statuses ${JSON.stringify(Object.fromEntries(outcome.statuses))}, ` +
          `recovered after ${outcome.recoveredMs} ms, ${outcome.lost} of ${outcome.acknowledged.length} acknowledged writes lost`,
      );
      expect(seen.every((s) => s === 200 || s === 503)).toBe(true);
      expect(outcome.statuses.get(200) ?? 0).toBeGreaterThan(20);
      // Serving again: one more write and read through the promoted replica.
      const after = await killMasterUnderLoadProbe(server);
      expect(after).toBe(200);
    } finally {
      await Promise.all([server.close(), watcher.close()]);
    }
  }, 240_000);

  it('loses no acknowledged write with MNEMO_REDIS_WAIT_REPLICAS=1', async () => {
    const server = await startServer({
      redisUrl: cluster.url,
      redisWaitReplicas: 1,
      redisWaitTimeoutMs: 500,
    });
    try {
      // The promoted replica has no replica of its own, so writes there keep answering 503 (not replicated)
      // until one is attached again: the run ends a while after the kill instead of waiting for recovery.
      const outcome = await killMasterUnderLoad(server, await replicatedWorkspace('waited'), 15_000);
      console.info(
        `failover with WAIT 1: statuses ${JSON.stringify(Object.fromEntries(outcome.statuses))}, ` +
          `${outcome.lost} of ${outcome.acknowledged.length} acknowledged writes lost`,
      );
      expect([...outcome.statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);
      expect(outcome.acknowledged.length).toBeGreaterThanOrEqual(20);
      expect(outcome.lost).toBe(0);
    } finally {
      await server.close();
    }
  }, 240_000);
});

async function killMasterUnderLoadProbe(server: TestServer): Promise<number> {
  const key = await createLayerKey(server, uniqueWorkspace('after'));
  return (
    await server.request('POST', '/v1/remember', { token: key, body: { content: 'after the failover' } })
  ).status;
}

describe('MNEMO_REDIS_WAIT_REPLICAS on a Redis without replicas', () => {
  it('answers 503 with Retry-After for a write no replica confirmed, and still answers reads', async () => {
    // Keys are written before WAIT is on: creating one is a write like any other.
    const plain = await startServer({ redisUrl: inject('redisUrl') });
    const key = await createLayerKey(plain, uniqueWorkspace('unreplicated')).finally(() => plain.close());
    const server = await startServer({
      redisUrl: inject('redisUrl'),
      redisWaitReplicas: 1,
      redisWaitTimeoutMs: 20,
    });
    try {
      const res = await server.request('POST', '/v1/remember', { token: key, body: { content: 'a note' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const recall = await server.request('POST', '/v1/recall', { token: key, body: { query: 'note' } });
      expect(recall.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
