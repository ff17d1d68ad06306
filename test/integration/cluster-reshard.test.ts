import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { reshard, startTestCluster, type TestCluster } from '../helpers/redis-cluster.js';
import { createLayerKey, startServer, type TestServer } from '../helpers/server.js';
import { connectEvents, type EventClient } from '../helpers/ws.js';

/**
 * Resharding on a real Redis Cluster (its own six nodes, like the failover test): the hash slot of a busy
 * workspace is moved from one master to another with `redis-cli --cluster reshard`, and back, while one
 * client writes, another recalls, and a socket on a second instance follows the workspace's events.
 * Checked: no answer other than 200 or 503, every acknowledged write readable afterwards, the event of
 * every acknowledged write delivered to the socket, and the shard subscription following the slot.
 *
 * redis-cli moves a master's lowest-numbered slots first, so the workspace is one whose hash tag falls in
 * slot 0: whichever master holds it, slot 0 is its lowest, and the slot can move back and forth.
 */
let cluster: TestCluster;

function probeFor(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, password: cluster.password });
}

/** A workspace name whose hash tag `{name}` maps to `slot` (CLUSTER KEYSLOT, asked in batches). */
async function workspaceInSlot(slot: number): Promise<string> {
  const probe = probeFor(cluster.nodes[0]!.port);
  try {
    for (let batch = 0; batch < 100; batch++) {
      const names = Array.from({ length: 2000 }, () => `reshard-${randomHex(5)}`);
      const pipeline = probe.pipeline();
      for (const name of names) pipeline.cluster('KEYSLOT', `{${name}}`);
      const replies = (await pipeline.exec()) ?? [];
      const hit = replies.findIndex(([err, value]) => !err && value === slot);
      if (hit >= 0) return names[hit] as string;
    }
    throw new Error(`no workspace name found in slot ${slot}`);
  } finally {
    probe.disconnect();
  }
}

/** The port of the master that serves `slot`, as the cluster sees it now. */
async function ownerOf(slot: number): Promise<number> {
  const probe = probeFor(cluster.nodes[0]!.port);
  try {
    const ranges = await probe.cluster('SLOTS');
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    const port = range?.[2]?.[1];
    if (typeof port !== 'number') throw new Error(`no master for slot ${slot}`);
    return port;
  } finally {
    probe.disconnect();
  }
}

/** Shard channels of `workspace` that some client subscribes to on the node at `port`. */
async function shardChannelsOn(port: number, workspace: string): Promise<string[]> {
  const probe = probeFor(port);
  try {
    return (await probe.call('PUBSUB', 'SHARDCHANNELS', `*{${workspace}}*`)) as string[];
  } finally {
    probe.disconnect();
  }
}

interface Load {
  statuses: Map<number, number>;
  acknowledged: { id: string; content: string }[];
  /** Requests answered so far, whatever the status. */
  readonly answered: number;
  /** Resolves once `n` more writes were acknowledged. */
  acknowledgedMore(n: number): Promise<void>;
  /** Resolves once `n` more requests were answered. */
  answeredMore(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** One client writes (one at a time, each with a unique content) and another recalls, until stopped. */
function startLoad(server: TestServer, key: string): Load {
  const statuses = new Map<number, number>();
  const acknowledged: { id: string; content: string }[] = [];
  let answered = 0;
  const count = (status: number): void => {
    answered++;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  };
  let stop = false;
  const writes = (async () => {
    for (let i = 0; !stop; i++) {
      const content = `reshard note ${i} about kingfishers ${randomHex(3)}`;
      const res = await server.request('POST', '/v1/remember', {
        token: key,
        body: { content, user_id: 'u1' },
      });
      count(res.status);
      if (res.status === 200) acknowledged.push({ id: res.json.episodic.id as string, content });
    }
  })();
  const recalls = (async () => {
    while (!stop) {
      const res = await server.request('POST', '/v1/recall', { token: key, body: { query: 'kingfishers' } });
      count(res.status);
    }
  })();
  return {
    statuses,
    acknowledged,
    get answered() {
      return answered;
    },
    async acknowledgedMore(n) {
      const target = acknowledged.length + n;
      await expect
        .poll(() => acknowledged.length, { timeout: 60_000, interval: 20 })
        .toBeGreaterThanOrEqual(target);
    },
    async answeredMore(n) {
      const target = answered + n;
      await expect.poll(() => answered, { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(target);
    },
    async stop() {
      stop = true;
      await Promise.all([writes, recalls]);
    },
  };
}

async function lostWrites(server: TestServer, key: string, acknowledged: { id: string }[]): Promise<number> {
  let lost = 0;
  for (const { id } of acknowledged) {
    const res = await server.request('GET', `/v1/memory/${id}`, { token: key });
    if (res.status === 404) lost++;
    else expect(res.status).toBe(200);
  }
  return lost;
}

async function keysInSlot(port: number, slot: number): Promise<number> {
  const probe = probeFor(port);
  try {
    return await probe.cluster('COUNTKEYSINSLOT', slot);
  } finally {
    probe.disconnect();
  }
}

describe('resharding the slot of a busy workspace while serving', () => {
  let writer: TestServer;
  let watcher: TestServer;
  const sockets: EventClient[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster();
    writer = await startServer({ redisUrl: cluster.url });
    watcher = await startServer({ redisUrl: cluster.url });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all([writer?.close(), watcher?.close()]);
    await cluster?.destroy();
  });

  it('answers no 500, loses no acknowledged write, and keeps delivering events', async () => {
    const slot = 0;
    const workspace = await workspaceInSlot(slot);
    const key = await createLayerKey(writer, workspace);
    const socket = await connectEvents(watcher, key);
    sockets.push(socket);
    await socket.subscribe({ types: ['memory.working.added'] });
    const home = await ownerOf(slot);
    const away = cluster.nodes.slice(0, 3).find((n) => n.port !== home);
    if (!away) throw new Error('no second master');
    await expect.poll(() => shardChannelsOn(home, workspace)).toHaveLength(1);

    const load = startLoad(writer, key);
    try {
      await load.acknowledgedMore(10);
      // Away and home again, twice: four moves of the slot while writes and recalls run.
      const hops = [away.port, home, away.port, home];
      let from = home;
      for (const to of hops) {
        await reshard(cluster, { port: from }, { port: to });
        expect(await ownerOf(slot)).toBe(to);
        from = to;
        await load.acknowledgedMore(10);
      }
    } finally {
      await load.stop();
    }
    const { statuses, acknowledged } = load;
    console.info(
      `reshard: 4 moves of slot ${slot} (${await keysInSlot(home, slot)} keys), ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${acknowledged.length} acknowledged writes`,
    );
    expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);

    // Every acknowledged write is there, on the slot's final master.
    expect(await lostWrites(writer, key, acknowledged)).toBe(0);

    // The socket on the other instance got the event of every acknowledged write (live, or caught up from
    // the stream after its shard subscription moved with the slot), and still gets new ones.
    await expectDelivered(writer, key, socket, acknowledged);

    // The watcher's shard subscription lives on the slot's master and nowhere else.
    await expect.poll(() => shardChannelsOn(home, workspace)).toHaveLength(1);
    expect(await shardChannelsOn(away.port, workspace)).toHaveLength(0);
  }, 240_000);

  it('serves a slot held half-migrated, one key moved at a time, with 503 at worst', async () => {
    const workspace = `reshard-${randomHex(5)}`;
    const key = await createLayerKey(writer, workspace);
    const socket = await connectEvents(watcher, key);
    sockets.push(socket);
    await socket.subscribe({ types: ['memory.working.added'] });
    const slot = await slotOf(workspace);
    const home = await ownerOf(slot);
    const away = cluster.nodes.slice(0, 3).find((n) => n.port !== home);
    if (!away) throw new Error('no second master');
    const src = probeFor(home);
    const dst = probeFor(away.port);
    const load = startLoad(writer, key);
    let moved = 0;
    try {
      await load.acknowledgedMore(10);
      const [srcId, dstId] = await Promise.all([src.cluster('MYID'), dst.cluster('MYID')]);
      // What redis-cli --cluster reshard does, slowed down: the slot stays MIGRATING / IMPORTING while
      // requests keep coming between two keys.
      await dst.cluster('SETSLOT', slot, 'IMPORTING', srcId);
      await src.cluster('SETSLOT', slot, 'MIGRATING', dstId);
      for (;;) {
        const keys = await src.cluster('GETKEYSINSLOT', slot, 1);
        if (keys.length === 0) break;
        await src.call(
          'MIGRATE',
          '127.0.0.1',
          away.port,
          '',
          0,
          5000,
          'AUTH',
          cluster.password,
          'KEYS',
          keys[0]!,
        );
        moved++;
        await load.answeredMore(3);
      }
      // The old owner first (redis-cli starts with the new one): it drops the slot's shard channels before
      // any other node names the new owner, so a slot map refreshed right then looks unchanged, and the
      // subscriber must still find its channel's new master (without the resync on ioredis' "moved"
      // signal, the socket got nothing after this point).
      const third = cluster.nodes.slice(0, 3).find((n) => n.port !== home && n.port !== away.port);
      for (const port of [home, third!.port, away.port]) {
        const probe = probeFor(port);
        await probe.cluster('SETSLOT', slot, 'NODE', dstId).finally(() => probe.disconnect());
      }
      await expect.poll(() => ownerOf(slot)).toBe(away.port);
      await load.acknowledgedMore(10);
    } finally {
      src.disconnect();
      dst.disconnect();
      await load.stop();
    }
    const { statuses, acknowledged } = load;
    // What the masters refused meanwhile (TRYAGAIN: a script whose keys were split between them); ioredis
    // retried those, and followed the ASK redirections.
    const refused = await Promise.all([home, away.port].map((port) => errorStats(port)));
    console.info(
      `reshard key by key: ${moved} keys of slot ${slot} moved, errorstats ${JSON.stringify(refused)}, ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${acknowledged.length} acknowledged writes`,
    );
    expect(moved).toBeGreaterThan(1);
    expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);
    expect(await lostWrites(writer, key, acknowledged)).toBe(0);
    await expectDelivered(writer, key, socket, acknowledged);
    await expect.poll(() => shardChannelsOn(away.port, workspace)).toHaveLength(1);
    expect(await shardChannelsOn(home, workspace)).toHaveLength(0);
  }, 240_000);
});

/** The `errorstat_*` lines of INFO errorstats on the node at `port`, e.g. `{ TRYAGAIN: 3 }`. */
async function errorStats(port: number): Promise<Record<string, number>> {
  const probe = probeFor(port);
  try {
    const info = await probe.info('errorstats');
    return Object.fromEntries(
      [...info.matchAll(/^errorstat_(\w+):count=(\d+)/gm)].map((m) => [m[1] as string, Number(m[2])]),
    );
  } finally {
    probe.disconnect();
  }
}

async function slotOf(workspace: string): Promise<number> {
  const probe = probeFor(cluster.nodes[0]!.port);
  try {
    return await probe.cluster('KEYSLOT', `{${workspace}}`);
  } finally {
    probe.disconnect();
  }
}

/** Every acknowledged write's event reached the socket, each once, and a new write's event still does. */
async function expectDelivered(
  server: TestServer,
  key: string,
  socket: EventClient,
  acknowledged: { content: string }[],
): Promise<void> {
  for (const { content } of acknowledged) {
    await socket.waitFor((f) => f.data?.content === content, 20_000);
  }
  const content = `after the moves ${randomHex(3)}`;
  const last = await server.request('POST', '/v1/remember', { token: key, body: { content, user_id: 'u1' } });
  expect(last.status).toBe(200);
  await socket.waitFor((f) => f.data?.content === content, 20_000);
  const delivered = socket.events.map((e) => e.data.content as string);
  expect(new Set(delivered).size).toBe(delivered.length);
}
