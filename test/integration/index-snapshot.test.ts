import zlib from 'node:zlib';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { silentLogger } from '../../src/log.js';
import { BuiltinEmbedder } from '../../src/memory/embedders/builtin.js';
import { EventLog } from '../../src/memory/event-log.js';
import { SYSTEM_ACTOR } from '../../src/memory/events.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { Reembedder } from '../../src/memory/reembed.js';
import {
  checkFrames,
  decodeSnapshot,
  encodeSnapshot,
  SNAPSHOT_FORMAT,
} from '../../src/memory/search/index-snapshot.js';
import { IndexManager, MEMORY_INDEX_RULES } from '../../src/memory/search/index-manager.js';
import { NO_INDEX_OBSERVER, type IndexObserver } from '../../src/memory/search/index-observer.js';
import { IndexSnapshots, removalRewriteMsFor } from '../../src/memory/search/index-snapshots.js';
import { SnapshotStore } from '../../src/memory/search/snapshot-store.js';
import { inSlices } from '../../src/memory/search/slices.js';
import { TOKENIZER_VERSION, tokenize } from '../../src/memory/search/tokenizer.js';
import { vectorToBuffer, type PartitionPolicy } from '../../src/memory/search/vector-store.js';
import { WorkspaceIndex } from '../../src/memory/search/workspace-index.js';
import { Keys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { layerTenant, type Tenant } from '../../src/tenant.js';

/**
 * Persisted index snapshots (src/memory/search/index-snapshot*.ts, snapshot-store.ts) against the tests'
 * redis-server: an index restored from a snapshot answers exactly like the index it was captured from and
 * like a fresh build, catches up from the stream, and anything wrong with a snapshot (a flipped byte, a
 * missing chunk, another format or dimension, a stream trimmed past it) ends in an ordinary build.
 */
let redis: Redis;
let scripts: Scripts;
const keys = new Keys(`tsnap${randomHex(4)}`);
const embedder = new BuiltinEmbedder();
const DIM = embedder.dim;
const crc32 = (zlib as unknown as { crc32: (data: Uint8Array) => number }).crc32;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  scripts = new Scripts(redis);
});
afterAll(async () => {
  await redis.quit();
});

/** Counts what the snapshot machinery reports. */
function countingObserver(): IndexObserver & { loads: string[]; writes: string[] } {
  const loads: string[] = [];
  const writes: string[] = [];
  return {
    ...NO_INDEX_OBSERVER,
    loads,
    writes,
    snapshotLoaded: (outcome) => void loads.push(outcome),
    snapshotWritten: (outcome) => void writes.push(outcome),
  };
}

interface Instance {
  indexes: IndexManager;
  observer: ReturnType<typeof countingObserver>;
}

/** One instance's index manager; `minDocs` 0 = snapshots off (neither read nor written). */
function instance(options: {
  minDocs: number;
  dim?: number;
  maxLen?: number;
  partitions?: PartitionPolicy;
  eventsBetween?: number;
  removalRewriteMs?: number;
}): Instance {
  const dim = options.dim ?? DIM;
  const events = new EventLog(redis, scripts, keys, options.maxLen ?? 100_000);
  const observer = countingObserver();
  const snapshots = new IndexSnapshots(
    new SnapshotStore(redis, scripts, keys),
    {
      minDocs: options.minDocs,
      embedder: `builtin-${dim}`,
      streamMaxLen: options.maxLen ?? 100_000,
      eventsBetween: options.eventsBetween ?? 1,
      ...(options.removalRewriteMs === undefined ? {} : { removalRewriteMs: options.removalRewriteMs }),
    },
    dim,
    'int8',
    silentLogger,
    observer,
  );
  const indexes = new IndexManager(
    redis,
    keys,
    events,
    dim,
    MEMORY_INDEX_RULES,
    1 << 30,
    silentLogger,
    'int8',
    observer,
    snapshots,
    options.partitions,
  );
  return { indexes, observer };
}

const WORDS = ['deploy', 'pelican', 'garden', 'invoice', 'python', 'coffee', 'harbor', 'violin', 'tundra'];
const text = (i: number): string =>
  `note ${i}: ${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} and ${WORDS[(i * 3 + 1) % WORDS.length]} ${i % 13 === 0 ? 'deploy deploy' : ''}`;

function episode(id: string, content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    layer: 'episodic',
    content,
    importance: 0.5,
    created_at: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    ts: Date.UTC(2026, 0, 1),
    user_id: null,
    agent_id: null,
    session_id: null,
    metadata: {},
    ...extra,
  };
}

const fact = (id: string, object: string): Record<string, unknown> => ({
  ...episode(id, `user lives in ${object}`),
  layer: 'semantic',
  subject: 'user',
  predicate: 'located_in',
  object,
  status: 'current',
});

const engram = (id: string, statement: string): Record<string, unknown> => ({
  id,
  layer: 'engram',
  statement,
  domain: 'ops',
  tags: ['harbor'],
  rationale: null,
  pinned: true,
  ts: Date.UTC(2026, 0, 2),
});

/** Stores documents and their vectors as the write scripts do, without events (what a build scans). */
async function store(ws: Tenant, docs: Record<string, unknown>[], withVectors = true): Promise<void> {
  const pipeline = redis.pipeline();
  for (const doc of docs) {
    pipeline.hset(keys.docs(ws), doc.id as string, JSON.stringify(doc));
    const searched = (doc.content ?? doc.statement) as string;
    if (withVectors)
      pipeline.hset(keys.vectors(ws), doc.id as string, vectorToBuffer(embedder.embedOne(searched)));
  }
  await pipeline.exec();
}

/** The same writes announced on the stream, as a catch-up sees them. */
async function write(ws: Tenant, docs: Record<string, unknown>[]): Promise<void> {
  await store(ws, docs);
  const events = new EventLog(redis, scripts, keys, 100_000);
  await events.append(
    ws,
    SYSTEM_ACTOR,
    docs.map((doc) => ({
      type: doc.layer === 'semantic' ? 'memory.fact.added' : 'memory.episode.added',
      data: doc,
    })),
  );
}

async function remove(ws: Tenant, ids: string[]): Promise<void> {
  await redis.hdel(keys.docs(ws), ...ids);
  await redis.hdel(keys.vectors(ws), ...ids);
  const events = new EventLog(redis, scripts, keys, 100_000);
  await events.append(ws, SYSTEM_ACTOR, [{ type: 'memory.forgotten', data: { ids } }]);
}

async function revector(ws: Tenant, ids: string[], seed: string): Promise<void> {
  for (const id of ids)
    await redis.hset(keys.vectors(ws), id, vectorToBuffer(embedder.embedOne(`${seed} ${id}`)));
  const events = new EventLog(redis, scripts, keys, 100_000);
  await events.append(ws, SYSTEM_ACTOR, [{ type: 'memory.embedded', data: { ids } }]);
}

const QUERIES = [
  'deploy pelican',
  'garden invoice coffee',
  'harbor',
  'violin tundra python',
  'paris',
  'note 7',
];

/** Every candidate of every query, with ranks and scores (perLeg above the document count: nothing is cut). */
function answers(index: WorkspaceIndex, withRanks: boolean): unknown[] {
  return QUERIES.map((query) => {
    const result = index.search({
      tokens: tokenize(query),
      vector: embedder.embedOne(query),
      kinds: ['working', 'episodic', 'semantic', 'engram'],
      vectorFloor: 0,
      perLeg: 10_000,
      entities: tokenize(query).slice(0, 1),
    });
    const candidates = result.candidates
      .map((c) => ({
        id: c.doc.id,
        text: c.doc.text,
        ts: c.doc.ts,
        record: c.doc.record,
        bm25: c.bm25,
        cosine: c.cosine,
        mentionsEntity: c.mentionsEntity,
        ...(withRanks ? { bm25Rank: c.bm25Rank, vectorRank: c.vectorRank } : {}),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { query, matched: result.matched, candidates };
  });
}

const pinnedIds = (index: WorkspaceIndex): string[] => [...index.pinned()].map((d) => d.id).sort();

async function snapshotKeys(ws: Tenant): Promise<string[]> {
  const found = await redis.keys(`${keys.indexSnapshotMeta(ws)}*`);
  return found.sort();
}

/** A workspace of `count` episodes plus a fact and a pinned engram; snapshot written by a first instance. */
async function seededWithSnapshot(label: string, count = 600): Promise<{ ws: Tenant; writer: Instance }> {
  const ws = layerTenant(`${label}-${randomHex(4)}`);
  await store(ws, [
    ...Array.from({ length: count }, (_, i) => episode(`ep${i}`, text(i))),
    fact('fact1', 'Paris'),
    engram('eng1', 'deploy from the harbor branch'),
  ]);
  const writer = instance({ minDocs: 10 });
  await writer.indexes.fresh(ws);
  await writer.indexes.snapshotsIdle();
  expect(writer.observer.writes).toEqual(['committed']);
  return { ws, writer };
}

/** A meta `info` for a hand-made snapshot of `bytes` bytes. */
const snapshotInfo = (bytes: number) => ({
  format: SNAPSHOT_FORMAT,
  tokenizer: TOKENIZER_VERSION,
  dim: DIM,
  precision: 'int8' as const,
  embedder: embedder.name,
  entriesAdded: 0,
  docs: 1,
  bytes,
  createdAt: new Date().toISOString(),
});

/** Runs a sliced generator to its end at once. */
function drain<T>(work: Generator<undefined, T>): T {
  for (;;) {
    const next = work.next();
    if (next.done) return next.value;
  }
}

/** Lets the background work run until the index's vectors are partitioned (bounded, not timed). */
async function partitioned(index: WorkspaceIndex): Promise<void> {
  for (let turn = 0; turn < 100_000 && !index.vectors.partitioned; turn++)
    await new Promise((resolve) => setImmediate(resolve));
  expect(index.vectors.partitioned).toBe(true);
}

describe('persisted index snapshots', () => {
  it('is written again soon after a removal, so a deleted memory does not stay in the old snapshot', async () => {
    const ws = layerTenant(`removal-${randomHex(4)}`);
    await store(
      ws,
      Array.from({ length: 300 }, (_, i) => episode(`ep${i}`, text(i))),
    );
    // Writes every million events only: what follows is the removal rule alone.
    const writer = instance({ minDocs: 10, eventsBetween: 1_000_000, removalRewriteMs: 0 });
    await writer.indexes.fresh(ws);
    await writer.indexes.snapshotsIdle();
    expect(writer.observer.writes).toEqual(['committed']);
    await write(ws, [episode('ep300', 'an addition removes nothing')]);
    await writer.indexes.fresh(ws);
    await writer.indexes.snapshotsIdle();
    expect(writer.observer.writes).toEqual(['committed']);

    await remove(ws, ['ep7']);
    await writer.indexes.fresh(ws);
    for (let turn = 0; turn < 1000 && writer.observer.writes.length < 2; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await writer.indexes.snapshotsIdle();
    }
    expect(writer.observer.writes).toEqual(['committed', 'committed']);
    const snapshots = new SnapshotStore(redis, scripts, keys);
    const meta = await snapshots.meta(ws);
    const identity = {
      format: SNAPSHOT_FORMAT,
      tokenizer: TOKENIZER_VERSION,
      dim: DIM,
      precision: 'int8' as const,
      embedder: `builtin-${DIM}`,
    };
    const state = await decodeSnapshot(checkFrames(await snapshots.chunks(ws, meta!), meta!.gen), identity);
    const ids = state.docs.filter((d) => d !== undefined).map((d) => d.id);
    expect(ids).not.toContain('ep7');
    expect(ids).toContain('ep300');
    expect(ids).toHaveLength(300);
    writer.indexes.close();
    // By default the interval grows with the index: its capture can cost a full GC of the heap.
    expect([50_000, 200_000, 1_000_000, 5_000_000].map(removalRewriteMsFor)).toEqual([
      60_000, 60_000, 300_000, 600_000,
    ]);
  });

  it('keeps vector partitions: a restored index is partitioned again without training, and answers the same', async () => {
    // scan 1: a partitioned search scores every partition, so answers can be compared exactly.
    const partitions: PartitionPolicy = { minVectors: 100, scan: 1 };
    const ws = layerTenant(`parts-${randomHex(4)}`);
    await store(
      ws,
      Array.from({ length: 600 }, (_, i) => episode(`ep${i}`, text(i))),
    );
    const writer = instance({ minDocs: 10, partitions });
    await partitioned(await writer.indexes.fresh(ws));
    // Written again once partitioned, at the same stream position, replacing the first (flat) one.
    await writer.indexes.snapshotsIdle();
    expect(writer.observer.writes).toEqual(['committed', 'committed']);
    expect(await new SnapshotStore(redis, scripts, keys).meta(ws)).toMatchObject({ partitioned: true });
    // A write after the partitions serve, so the next snapshot is of a partitioned index.
    await write(ws, [episode('ep600', 'pelican harbor after partitioning')]);
    const captured = await writer.indexes.fresh(ws);
    await writer.indexes.snapshotsIdle();
    const written = drain(captured.vectors.exportState()).partitions;
    expect(written?.trainedOn).toBe(600);

    await write(ws, [episode('ep601', 'violin garden written after the snapshot')]);
    const reader = instance({ minDocs: 10, partitions });
    const restored = await reader.indexes.fresh(ws);
    expect(reader.observer.loads).toEqual(['restored']);
    await partitioned(restored);
    const adopted = drain(restored.vectors.exportState()).partitions;
    // Trained afresh it would have been on 602 vectors; adopted, its centroids are the snapshot's.
    expect(adopted?.trainedOn).toBe(600);
    expect(adopted?.centroids).toEqual(written?.centroids);
    const current = await writer.indexes.fresh(ws);
    expect(restored.vectors.size).toBe(602);
    expect(answers(restored, false)).toEqual(answers(current, false));
    // A reader that does not partition restores the same vectors and scans them all.
    const flat = instance({ minDocs: 10 });
    const plain = await flat.indexes.fresh(ws);
    await new Promise((resolve) => setImmediate(resolve));
    expect(plain.vectors.partitioned).toBe(false);
    // (Compared with a flat build: a flat scan's cosines come from the SIMD pass, with the query quantized.)
    expect(answers(plain, false)).toEqual(answers(await instance({ minDocs: 0 }).indexes.fresh(ws), false));
  });

  it('a restored index answers exactly like the index it was captured from and like a fresh build', async () => {
    const { ws, writer } = await seededWithSnapshot('roundtrip');
    // Changes after the first snapshot (dead slots, a re-used id, new vectors), then a second snapshot.
    await remove(ws, ['ep3', 'ep4', 'ep5']);
    await write(ws, [episode('ep4', 'rewritten pelican garden text'), fact('fact2', 'Lisbon')]);
    await revector(ws, ['ep10', 'ep11'], 'violin');
    const captured = await writer.indexes.fresh(ws);
    await writer.indexes.snapshotsIdle();
    expect(writer.observer.writes).toEqual(['committed', 'committed']);

    const reader = instance({ minDocs: 10 });
    const restored = await reader.indexes.fresh(ws);
    expect(reader.observer.loads).toEqual(['restored']);
    const fresh = await instance({ minDocs: 0 }).indexes.fresh(ws);

    expect(restored.size).toBe(captured.size);
    expect(restored.lastEventId).toBe(captured.lastEventId);
    expect(restored.vectors.size).toBe(captured.vectors.size);
    expect(answers(restored, true)).toEqual(answers(captured, true));
    expect(answers(restored, false)).toEqual(answers(fresh, false));
    expect(pinnedIds(restored)).toEqual(['eng1']);
    expect(restored.get('fact2')?.text).toBe(fresh.get('fact2')?.text);
    // The second snapshot displaced the first: only one generation stays persistent.
    const persistent = [];
    for (const key of await snapshotKeys(ws)) if ((await redis.pttl(key)) === -1) persistent.push(key);
    expect(persistent).toHaveLength(2); // the meta and the one chunk of the current generation
  });

  it('catches a restored index up with writes, deletes and vector updates made after the snapshot', async () => {
    const { ws } = await seededWithSnapshot('catchup');
    await write(ws, [episode('new1', 'pelican harbor newcomer'), episode('ep1', 'ep1 now about tundra')]);
    await remove(ws, ['ep2', 'fact1']);
    await revector(ws, ['ep20', 'new1'], 'coffee garden');

    const reader = instance({ minDocs: 10 });
    const caughtUp = await reader.indexes.fresh(ws);
    expect(reader.observer.loads).toEqual(['restored']);
    const fresh = await instance({ minDocs: 0 }).indexes.fresh(ws);
    expect(caughtUp.get('ep2')).toBeUndefined();
    expect(caughtUp.get('new1')?.text).toBe('pelican harbor newcomer');
    expect(answers(caughtUp, false)).toEqual(answers(fresh, false));
    // The restore replayed four events: enough (eventsBetween 1) for a newer snapshot of its own.
    await reader.indexes.snapshotsIdle();
    expect(reader.observer.writes).toEqual(['committed']);
  });

  it('builds from the documents when a chunk is corrupt or missing, and drops that snapshot', async () => {
    for (const damage of ['flip', 'missing', 'truncated'] as const) {
      const { ws } = await seededWithSnapshot(`damage-${damage}`);
      const meta = await new SnapshotStore(redis, scripts, keys).meta(ws);
      const chunk = keys.indexSnapshotChunk(ws, meta?.gen as string, 0);
      if (damage === 'flip') await redis.setrange(chunk, 5000, 'X');
      if (damage === 'missing') await redis.del(chunk);
      if (damage === 'truncated')
        await redis.set(chunk, ((await redis.getBuffer(chunk)) as Buffer).subarray(0, 900));

      const reader = instance({ minDocs: 10 });
      const index = await reader.indexes.fresh(ws);
      expect(reader.observer.loads, damage).toEqual(['unreadable']);
      const fresh = await instance({ minDocs: 0 }).indexes.fresh(ws);
      expect(answers(index, false)).toEqual(answers(fresh, false));
      // The broken generation is gone; the reader's own build wrote a good one.
      await reader.indexes.snapshotsIdle();
      const after = await new SnapshotStore(redis, scripts, keys).meta(ws);
      expect(after?.gen).not.toBe(meta?.gen);
      expect(reader.observer.writes).toEqual(['committed']);
    }
  });

  it('ignores a snapshot of another format, dimension or embedder', async () => {
    const { ws } = await seededWithSnapshot('identity');
    const other = instance({ minDocs: 10, dim: 64 });
    const index = await other.indexes.fresh(ws);
    expect(other.observer.loads).toEqual(['incompatible']);
    expect(index.dim).toBe(64);
    expect(index.size).toBe(602);

    const metaKey = keys.indexSnapshotMeta(ws);
    const info = JSON.parse((await redis.hget(metaKey, 'info')) as string) as Record<string, unknown>;
    await redis.hset(metaKey, 'info', JSON.stringify({ ...info, format: SNAPSHOT_FORMAT + 1 }));
    const newer = instance({ minDocs: 10 });
    await newer.indexes.fresh(ws);
    expect(newer.observer.loads).toEqual(['incompatible']);
  });

  it('builds from the documents when the stream was trimmed past the snapshot', async () => {
    const { ws } = await seededWithSnapshot('trimmed');
    const events = new EventLog(redis, scripts, keys, 50);
    for (let i = 0; i < 30; i++) {
      const docs = Array.from({ length: 10 }, (_, j) => episode(`late${i}-${j}`, `late pelican ${i} ${j}`));
      await store(ws, docs);
      await events.append(
        ws,
        SYSTEM_ACTOR,
        docs.map((data) => ({ type: 'memory.episode.added', data })),
      );
    }
    const reader = instance({ minDocs: 10, maxLen: 50 });
    const index = await reader.indexes.fresh(ws);
    expect(reader.observer.loads).toEqual(['restored']); // read, then found too old to catch up
    expect(index.size).toBe(602 + 300);
    const fresh = await instance({ minDocs: 0 }).indexes.fresh(ws);
    expect(answers(index, false)).toEqual(answers(fresh, false));
  });

  it('erasing a user deletes every snapshot key, and a snapshot captured before cannot be committed', async () => {
    const { ws } = await seededWithSnapshot('erase');
    const position = (await new SnapshotStore(redis, scripts, keys).meta(ws))?.position as string;
    expect((await snapshotKeys(ws)).length).toBeGreaterThan(1);
    await redis.sadd(keys.userDocs(ws, 'u1'), 'ep1');
    const memory = new MemoryStore(redis, scripts, keys, new EventLog(redis, scripts, keys, 100_000));
    await memory.forgetUser(ws, SYSTEM_ACTOR, 'u1');
    expect(await snapshotKeys(ws)).toEqual([keys.indexSnapshotMeta(ws)]); // only the floor is left
    expect(await redis.hget(keys.indexSnapshotMeta(ws), 'gen')).toBeNull();

    // An instance that captured its snapshot before the erasure finishes writing it now: refused.
    const snapshots = new SnapshotStore(redis, scripts, keys);
    const gen = SnapshotStore.newGeneration();
    await snapshots.putChunk(ws, gen, 0, Buffer.from('stale'));
    const info = snapshotInfo(5);
    expect(await snapshots.commit(ws, { gen, position, chunks: 1, info, partitioned: false })).toBe(false);
    expect(await redis.exists(keys.indexSnapshotChunk(ws, gen, 0))).toBe(0);
  });

  it('a re-embed drops the snapshot', async () => {
    const { ws } = await seededWithSnapshot('reembed', 50);
    const memory = new MemoryStore(redis, scripts, keys, new EventLog(redis, scripts, keys, 100_000));
    await new Reembedder(memory, embedder).run([ws], { force: true });
    expect(await redis.hget(keys.indexSnapshotMeta(ws), 'gen')).toBeNull();
    expect(await snapshotKeys(ws)).toEqual([keys.indexSnapshotMeta(ws)]);
  });

  it('keeps the newest snapshot when two instances commit out of order', async () => {
    const ws = layerTenant(`order-${randomHex(4)}`);
    const snapshots = new SnapshotStore(redis, scripts, keys);
    const info = snapshotInfo(1);
    const newer = SnapshotStore.newGeneration();
    const older = SnapshotStore.newGeneration();
    await snapshots.putChunk(ws, newer, 0, Buffer.from('n'));
    await snapshots.putChunk(ws, older, 0, Buffer.from('o'));
    expect(
      await snapshots.commit(ws, { gen: newer, position: '20-0', chunks: 1, info, partitioned: false }),
    ).toBe(true);
    expect(
      await snapshots.commit(ws, { gen: older, position: '10-5', chunks: 1, info, partitioned: false }),
    ).toBe(false);
    expect(
      await snapshots.commit(ws, { gen: older, position: '20-0', chunks: 1, info, partitioned: false }),
    ).toBe(false);
    expect((await snapshots.meta(ws))?.gen).toBe(newer);
    expect(await redis.pttl(keys.indexSnapshotChunk(ws, newer, 0))).toBe(-1);
    expect(await redis.exists(keys.indexSnapshotChunk(ws, older, 0))).toBe(0);
    // At the same position, one with vector partitions replaces one without, never the other way round.
    const withParts = SnapshotStore.newGeneration();
    const flatAgain = SnapshotStore.newGeneration();
    await snapshots.putChunk(ws, withParts, 0, Buffer.from('p'));
    await snapshots.putChunk(ws, flatAgain, 0, Buffer.from('f'));
    const at20 = { position: '20-0', chunks: 1, info };
    expect(await snapshots.commit(ws, { ...at20, gen: withParts, partitioned: true })).toBe(true);
    expect(await snapshots.commit(ws, { ...at20, gen: flatAgain, partitioned: false })).toBe(false);
    expect(await snapshots.meta(ws)).toMatchObject({ gen: withParts, partitioned: true });
  });

  it('never crashes on damaged input: every mutation of a snapshot is refused or restores a sound index', async () => {
    const ws = layerTenant(`fuzz-${randomHex(4)}`);
    const source = new WorkspaceIndex(ws, DIM);
    for (let i = 0; i < 200; i++) {
      const content = text(i);
      source.upsert({
        id: `d${i}`,
        kind: 'episodic',
        text: content,
        ts: i,
        record: episode(`d${i}`, content),
      });
      source.setVector(`d${i}`, embedder.embedOne(content));
    }
    for (let i = 0; i < 20; i++) source.remove(`d${i * 3}`);
    const identity = {
      format: SNAPSHOT_FORMAT,
      tokenizer: TOKENIZER_VERSION,
      dim: DIM,
      precision: 'int8' as const,
      embedder: embedder.name,
    };
    const gen = SnapshotStore.newGeneration();
    const chunks: Buffer[] = [];
    for await (const chunk of encodeSnapshot(await inSlices(source.captureState()), identity, gen))
      chunks.push(chunk);
    const good = Buffer.concat(chunks);
    // The untouched bytes restore the same index.
    const restored = await inSlices(
      WorkspaceIndex.restore(ws, DIM, 'int8', await decodeSnapshot(checkFrames([good], gen), identity)),
    );
    expect(answers(restored, true)).toEqual(answers(source, true));

    let random = 12345;
    const next = (n: number): number => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return random % n;
    };
    let refused = 0;
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.from(good);
      const payload = bytes.subarray(24);
      const kind = round % 3;
      if (kind === 0) for (let k = 0; k < 1 + next(4); k++) payload[next(payload.length)] = next(256);
      const cut = kind === 1 ? bytes.subarray(0, 24 + next(payload.length)) : bytes;
      if (kind === 2) payload.writeUInt32LE(next(2 ** 31), next(payload.length - 4));
      // Re-framed with a correct length and checksum, so the decoder's own checks meet the damage.
      const reframed = Buffer.from(cut);
      reframed.writeUInt32LE(reframed.length - 24, 8);
      reframed.writeUInt32LE(crc32(reframed.subarray(24)) >>> 0, 12);
      try {
        const state = await decodeSnapshot(checkFrames([reframed], gen), identity);
        const index = await inSlices(WorkspaceIndex.restore(ws, DIM, 'int8', state));
        // Accepted (the damage hit a value no check can see, like a score or a timestamp): it must answer.
        answers(index, false);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(150);
  });
});
