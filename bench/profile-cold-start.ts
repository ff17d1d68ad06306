import { Redis } from 'ioredis';
import { toSearchDoc } from '../src/memory/search/search-doc.js';
import { WorkspaceIndex } from '../src/memory/search/workspace-index.js';
import { Keys } from '../src/redis/keys.js';
import { layerTenant } from '../src/tenant.js';
import { Corpus } from './lib/corpus.js';
import { seedDirect } from './lib/seed-direct.js';
import { startRedis } from './lib/stack.js';

// Where a cold index build from Redis spends its time, phase by phase (what IndexManager.build does, each
// phase timed on its own, on a private redis-server):  npx tsx bench/profile-cold-start.ts [docs]
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
  console.log(JSON.stringify({ docs: count, ...phases, total_ms: total }, null, 2));
} finally {
  client.disconnect();
  await redis.stop();
}
