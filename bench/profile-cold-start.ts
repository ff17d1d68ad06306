import { Redis } from 'ioredis';
import {
  checkFrames,
  decodeSnapshot,
  encodeSnapshot,
  SNAPSHOT_FORMAT,
} from '../src/memory/search/index-snapshot.js';
import { toSearchDoc } from '../src/memory/search/search-doc.js';
import { inSlices } from '../src/memory/search/slices.js';
import { TOKENIZER_VERSION } from '../src/memory/search/tokenizer.js';
import { WorkspaceIndex } from '../src/memory/search/workspace-index.js';
import { Keys } from '../src/redis/keys.js';
import { layerTenant } from '../src/tenant.js';
import { Corpus } from './lib/corpus.js';
import { seedDirect } from './lib/seed-direct.js';
import { startRedis } from './lib/stack.js';

// Where a cold index build from Redis spends its time, phase by phase (what IndexManager.build does, each
// phase timed on its own, on a private redis-server), then the same for writing and restoring a persisted
// snapshot of the index (index-snapshot.ts):  npx tsx bench/profile-cold-start.ts [docs]
const count = Number(process.argv[2] ?? 200_000);
const DIM = 128;
const redis = await startRedis();
const client = new Redis(redis.url);
const keys = new Keys();
const tenant = layerTenant('profile');
const ms = (since: number): number => Math.round(performance.now() - since);
try {
  let t = performance.now();
  await seedDirect(client, new Corpus(7), { workspace: 'profile', count });
  console.log(`seed ${count}: ${ms(t)} ms`);

  const scan = async <T>(key: string, buffers: boolean, take: (flat: T[]) => void): Promise<void> => {
    let cursor = '0';
    do {
      const [next, flat] = buffers
        ? await client.hscanBuffer(key, cursor, 'COUNT', 2000)
        : await client.hscan(key, cursor, 'COUNT', 2000);
      cursor = next.toString();
      take(flat as T[]);
    } while (cursor !== '0');
  };
  const phases: Record<string, number> = {};
  t = performance.now();
  const raw: string[] = [];
  await scan<string>(keys.docs(tenant), false, (flat) => {
    for (let i = 1; i < flat.length; i += 2) raw.push(flat[i] as string);
  });
  phases.hscan_docs = ms(t);
  t = performance.now();
  const parsed = raw.map((json) => JSON.parse(json) as Record<string, unknown>);
  phases.json_parse = ms(t);
  t = performance.now();
  const docs = parsed.map((record) => toSearchDoc(record));
  phases.to_search_doc = ms(t);
  const index = new WorkspaceIndex(tenant, DIM);
  t = performance.now();
  for (const doc of docs) if (doc) index.upsert(doc);
  phases.tokenize_bm25_add = ms(t);
  t = performance.now();
  const vectors: Buffer[] = [];
  const ids: string[] = [];
  await scan<Buffer>(keys.vectors(tenant), true, (flat) => {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      ids.push((flat[i] as Buffer).toString());
      vectors.push(flat[i + 1] as Buffer);
    }
  });
  phases.hscan_vectors = ms(t);
  t = performance.now();
  const scratch = new Float32Array(DIM);
  const bytes = new Uint8Array(scratch.buffer);
  for (let i = 0; i < ids.length; i++) {
    bytes.set(vectors[i] as Buffer);
    index.setVector(ids[i] as string, scratch);
  }
  phases.quantize = ms(t);
  const total = Object.values(phases).reduce((a, b) => a + b, 0);

  // Records as JSON: one parse per document (the docs HASH) or one per block of 5,000 (the snapshot).
  t = performance.now();
  for (let i = 0; i < raw.length; i += 5000) JSON.parse(`[${raw.slice(i, i + 5000).join(',')}]`);
  const blockParse = ms(t);

  const snap: Record<string, number> = {};
  const identity = {
    format: SNAPSHOT_FORMAT,
    tokenizer: TOKENIZER_VERSION,
    dim: DIM,
    precision: 'int8' as const,
    embedder: 'builtin-128',
  };
  t = performance.now();
  const state = await inSlices(index.captureState());
  snap.capture = ms(t);
  t = performance.now();
  const chunks: Buffer[] = [];
  for await (const chunk of encodeSnapshot(state, identity, '0123456789abcdef')) chunks.push(chunk);
  snap.encode = ms(t);
  t = performance.now();
  for (let n = 0; n < chunks.length; n++) await client.set(`snap:${n}`, chunks[n] as Buffer);
  snap.write_chunks = ms(t);
  t = performance.now();
  const fetched: (Buffer | null)[] = [];
  for (let n = 0; n < chunks.length; n += 4) {
    const pipeline = client.pipeline();
    for (let m = n; m < Math.min(chunks.length, n + 4); m++) pipeline.getBuffer(`snap:${m}`);
    for (const [, value] of (await pipeline.exec()) ?? []) fetched.push(value as Buffer);
  }
  snap.fetch_chunks = ms(t);
  t = performance.now();
  const checked = checkFrames(fetched, '0123456789abcdef');
  snap.check_frames = ms(t);
  t = performance.now();
  const decoded = await decodeSnapshot(checked, identity);
  snap.decode = ms(t);
  t = performance.now();
  const restored = await inSlices(WorkspaceIndex.restore(tenant, DIM, 'int8', decoded));
  snap.restore = ms(t);
  const snapshotBytes = chunks.reduce((sum, c) => sum + c.length, 0);
  const loadTotal = snap.fetch_chunks + snap.check_frames + snap.decode + snap.restore;
  console.log(
    JSON.stringify(
      {
        docs: count,
        build: { ...phases, total_ms: total, json_parse_per_block_of_5000: blockParse },
        snapshot: {
          ...snap,
          chunks: chunks.length,
          bytes: snapshotBytes,
          load_total_ms: loadTotal,
          restored_docs: restored.size,
        },
      },
      null,
      2,
    ),
  );
} finally {
  client.disconnect();
  await redis.stop();
}
