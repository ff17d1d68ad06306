import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import type { Scripts } from '../../redis/scripts.js';
import type { Tenant } from '../../tenant.js';
import type { SnapshotIdentity } from './index-snapshot.js';

/**
 * Redis I/O of persisted search-index snapshots (the format is index-snapshot.ts). A generation's chunks
 * are STRINGs under keys of their own (Keys.indexSnapshotChunk), written with a TTL so a writer that dies
 * half way leaves nothing behind for long; `commitIndexSnapshot-1.lua` then names the generation in the
 * tenant's meta HASH (only when it is newer than the current one), and the chunks are made persistent.
 * A displaced generation's chunks expire after GRACE_MS, so an instance still reading it can finish.
 * `dropIndexSnapshot-2.lua` forgets the snapshot (erasure, re-embed, unreadable) and every chunk is
 * deleted at once.
 */
export interface SnapshotMeta {
  gen: string;
  /** Stream id the snapshot reflects. */
  position: string;
  chunks: number;
  info: SnapshotInfo;
  /** Whether it holds vector partitions (one that does replaces one that does not at the same position). */
  partitioned: boolean;
}

/** What the meta says of a snapshot besides where it is: enough to skip an incompatible one unread. */
export interface SnapshotInfo extends SnapshotIdentity {
  entriesAdded: number;
  docs: number;
  bytes: number;
  createdAt: string;
}

/** Chunks of a generation not committed (yet) expire after this: a writer needs seconds, not an hour. */
const WRITE_TTL_MS = 15 * 60_000;
/** A displaced generation stays readable this long for instances that started loading it. */
export const GRACE_MS = 2 * 60_000;
/** Chunks fetched per pipeline (8 MB each). */
const FETCH_WINDOW = 4;

export class SnapshotStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keys: Keys,
  ) {}

  static newGeneration(): string {
    return randomBytes(8).toString('hex');
  }

  /** The current snapshot's meta, or undefined when there is none (or the meta is malformed). */
  async meta(tenant: Tenant): Promise<SnapshotMeta | undefined> {
    const [gen, position, chunks, info, partitioned] = await this.redis.hmget(
      this.keys.indexSnapshotMeta(tenant),
      'gen',
      'position',
      'chunks',
      'info',
      'partitioned',
    );
    if (!gen || !position || !chunks || !info) return undefined;
    const count = Number(chunks);
    if (!Number.isInteger(count) || count < 1) return undefined;
    try {
      const parsed = JSON.parse(info) as SnapshotInfo;
      if (typeof parsed !== 'object' || parsed === null) return undefined;
      return { gen, position, chunks: count, info: parsed, partitioned: partitioned === '1' };
    } catch {
      return undefined;
    }
  }

  /** Stores one chunk of a generation being written (expires unless committed). */
  async putChunk(tenant: Tenant, gen: string, n: number, chunk: Buffer): Promise<void> {
    await this.redis.set(this.keys.indexSnapshotChunk(tenant, gen, n), chunk, 'PX', WRITE_TTL_MS);
  }

  /**
   * Makes a written generation current if it is newer than the current one (or as new, with partitions
   * where the current one has none); true when it did. The new
   * chunks are made persistent and every retiring generation's chunks set to expire; a refused generation's
   * chunks are deleted.
   */
  async commit(tenant: Tenant, meta: SnapshotMeta): Promise<boolean> {
    const [committed, retiring] = await this.scripts.run<[number, (string | number)[]?]>(
      'commitIndexSnapshot',
      [this.keys.indexSnapshotMeta(tenant)],
      [meta.gen, meta.position, meta.chunks, JSON.stringify(meta.info), GRACE_MS, meta.partitioned ? 1 : 0],
    );
    const pipeline = this.redis.pipeline();
    if (committed === 1) {
      for (let n = 0; n < meta.chunks; n++)
        pipeline.persist(this.keys.indexSnapshotChunk(tenant, meta.gen, n));
      // Expiring every retiring generation again (NX: never lengthened) also covers a writer that died
      // between its commit and this step.
      for (const [gen, chunks] of pairs(retiring ?? []))
        for (let n = 0; n < chunks; n++)
          pipeline.pexpire(this.keys.indexSnapshotChunk(tenant, gen, n), GRACE_MS, 'NX');
    } else {
      for (let n = 0; n < meta.chunks; n++)
        pipeline.unlink(this.keys.indexSnapshotChunk(tenant, meta.gen, n));
    }
    await pipeline.exec();
    return committed === 1;
  }

  /** Deletes the chunks of a generation that will not be committed (a write that failed half way). */
  async discard(tenant: Tenant, gen: string, chunks: number): Promise<void> {
    if (chunks === 0) return;
    const keys = Array.from({ length: chunks }, (_, n) => this.keys.indexSnapshotChunk(tenant, gen, n));
    await this.redis.unlink(...keys);
  }

  /** Every chunk of the generation, in order (null for a missing one). */
  async chunks(tenant: Tenant, meta: SnapshotMeta): Promise<(Buffer | null)[]> {
    const out: (Buffer | null)[] = [];
    for (let first = 0; first < meta.chunks; first += FETCH_WINDOW) {
      const pipeline = this.redis.pipeline();
      const last = Math.min(meta.chunks, first + FETCH_WINDOW);
      for (let n = first; n < last; n++)
        pipeline.getBuffer(this.keys.indexSnapshotChunk(tenant, meta.gen, n));
      for (const [err, chunk] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        out.push((chunk as Buffer | null) ?? null);
      }
    }
    return out;
  }

  /**
   * Forgets the tenant's snapshot and deletes its chunks and those of every retiring generation. With
   * `onlyGen`, only when that generation is still the current one.
   */
  async drop(tenant: Tenant, onlyGen = ''): Promise<void> {
    const doomed = await this.scripts.run<(string | number)[]>(
      'dropIndexSnapshot',
      [this.keys.indexSnapshotMeta(tenant), this.keys.eventStream(tenant)],
      [onlyGen],
    );
    const keys: string[] = [];
    for (const [gen, chunks] of pairs(doomed))
      for (let n = 0; n < chunks; n++) keys.push(this.keys.indexSnapshotChunk(tenant, gen, n));
    for (let i = 0; i < keys.length; i += 500) await this.redis.unlink(...keys.slice(i, i + 500));
  }
}

/** [gen, chunks] pairs of a flat Lua reply. */
function* pairs(flat: (string | number)[]): Generator<[string, number]> {
  for (let i = 0; i + 1 < flat.length; i += 2) yield [String(flat[i]), Number(flat[i + 1])];
}
