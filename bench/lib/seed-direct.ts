import type { Redis } from 'ioredis';
import { BuiltinEmbedder } from '../../src/memory/embedders/builtin.js';
import type { EpisodeDoc } from '../../src/memory/documents.js';
import { vectorToBuffer } from '../../src/memory/search/vector-store.js';
import { Keys } from '../../src/redis/keys.js';
import { layerTenant } from '../../src/tenant.js';
import type { Corpus } from './corpus.js';

/**
 * Seeds episodes straight into a workspace's Redis keys, in the stored format the remember script writes
 * (docs HASH entry, float32 vector of the builtin embedder, the episodes ZSET, the stats counter), pipelined
 * in batches. No events are appended: a fresh index is built from the docs and vectors HASHes, which is
 * what a cold start measures. 1,000,000 episodes take about a minute this way instead of several through
 * HTTP. The key prefix is the service's default ('mnemo').
 */
const BATCH = 2000;

export interface DirectSeedOptions {
  workspace: string;
  count: number;
  /** Serial of the first document (ids and timestamps are derived from it). */
  first?: number;
}

export async function seedDirect(redis: Redis, corpus: Corpus, options: DirectSeedOptions): Promise<void> {
  const keys = new Keys();
  const tenant = layerTenant(options.workspace);
  const embedder = new BuiltinEmbedder();
  const first = options.first ?? 0;
  const base = Date.UTC(2026, 0, 1);
  for (let start = 0; start < options.count; start += BATCH) {
    const pipeline = redis.pipeline();
    const end = Math.min(options.count, start + BATCH);
    const docs: (string | Buffer)[] = [];
    const vectors: (string | Buffer)[] = [];
    const episodes: (string | number)[] = [];
    for (let i = start; i < end; i++) {
      const serial = first + i;
      const content = corpus.memory(serial);
      const ts = base + serial * 1000;
      const id = `ep_seed${serial.toString(36).padStart(8, '0')}`;
      const doc: EpisodeDoc = {
        id,
        layer: 'episodic',
        content,
        importance: (serial % 10) / 10,
        created_at: new Date(ts).toISOString(),
        ts,
        user_id: null,
        agent_id: null,
        session_id: null,
        metadata: {},
        event: 'agent_response',
        source: null,
        channel: null,
        tags: [],
      };
      docs.push(id, JSON.stringify(doc));
      vectors.push(id, Buffer.from(vectorToBuffer(embedder.embedOne(content))));
      episodes.push(ts, id);
    }
    pipeline.hset(keys.docs(tenant), ...docs);
    pipeline.hset(keys.vectors(tenant), ...vectors);
    pipeline.zadd(keys.episodes(tenant), ...episodes);
    pipeline.hincrby(keys.stats(tenant), 'episodic', end - start);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0] as Error;
  }
}
