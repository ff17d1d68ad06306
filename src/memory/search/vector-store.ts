import { RowArena, type VectorPrecision } from './row-arena.js';
import { TopK } from './top-k.js';
import {
  partitionCountFor,
  rankByScore,
  SLICE,
  trainCentroids,
  VectorPartitions,
  type CentroidSearch,
  type TrainingSource,
} from './vector-partitions.js';

export type { VectorPrecision } from './row-arena.js';

export interface NearestOptions {
  /** Cosine at or below this is not a match. */
  floor: number;
}

/** When a store is partitioned, and how much of it a query scans then (config: MNEMO_VECTOR_PARTITION_*). */
export interface PartitionPolicy {
  /** Vectors from which the store is partitioned (0 = never). */
  minVectors: number;
  /** Fraction of the vectors a query scores once partitioned (0–1]: the nearest partitions that hold it. */
  scan: number;
}

export const NO_PARTITIONS: PartitionPolicy = { minVectors: 0, scan: 1 };

/** Partitions are trained again once the store holds this many times the vectors they were trained on. */
const RETRAIN_GROWTH = 4;

/** Thrown into a background partitioning that was stopped (the index was dropped). */
export class PartitioningStopped extends Error {
  constructor() {
    super('partitioning stopped');
  }
}

interface Training {
  /** Slots written or removed since the training started: placed again when it ends. */
  dirty: Set<number>;
  stopped: boolean;
}

/**
 * Embeddings of one workspace, by document slot. Flat, every slot's vector is row `slot` of one RowArena
 * and a nearest-neighbour search is exact: one SIMD call scores every row, then a JavaScript pass keeps
 * the best accepted ones (100k × 128 int8 in about 1 ms). Removed slots are zeroed, so they score 0 and
 * never pass a positive floor.
 *
 * A large store (at least `PartitionPolicy.minVectors` vectors) is partitioned in the background
 * (vector-partitions.ts): from then on a query scores the nearest partitions only, `PartitionPolicy.scan`
 * of the rows, and is approximate. Until the partitions are ready, and below the threshold, it is exact.
 */
export class VectorStore {
  /** The flat layout (row = slot), until the store is partitioned. */
  private flat: RowArena | undefined;
  private partitions: VectorPartitions | undefined;
  private training: Training | undefined;
  /** Partitions a snapshot described, laid out by the next `partitionIfDue` instead of training. */
  private adopted: PartitionState | undefined;
  private count = 0;
  private highest = -1;
  /** The query whose scores the flat arena holds for slots below `scannedSlots` (see cosineAt). */
  private scanned: Float32Array | undefined;
  private scannedSlots = 0;

  constructor(
    readonly dim: number,
    readonly precision: VectorPrecision = 'int8',
    initialCapacity = 1024,
    private readonly policy: PartitionPolicy = NO_PARTITIONS,
  ) {
    this.flat = new RowArena(dim, precision, Math.max(1, initialCapacity));
  }

  set(slot: number, vector: Float32Array): void {
    if (vector.length !== this.dim) return;
    this.scanned = undefined;
    const had = this.has(slot);
    let stored: boolean;
    if (this.partitions) {
      stored = vector.some((x) => x !== 0);
      if (stored) this.partitions.set(slot, vector);
      else this.partitions.remove(slot);
    } else {
      const flat = this.flat as RowArena;
      flat.ensure(slot + 1);
      stored = flat.write(slot, vector);
    }
    if (!had && stored) this.count++;
    if (had && !stored) this.count--;
    if (slot > this.highest) this.highest = slot;
    this.touched(slot);
  }

  /** A write or removal: the background work (or adopted partitions) must place the slot afresh. */
  private touched(slot: number): void {
    this.training?.dirty.add(slot);
    const known = this.adopted?.partitionOf;
    if (known && slot < known.length) known[slot] = -1;
  }

  has(slot: number): boolean {
    if (this.partitions) return this.partitions.has(slot);
    const flat = this.flat as RowArena;
    return slot < flat.capacity && flat.invNorms[slot] !== 0;
  }

  remove(slot: number): void {
    if (!this.has(slot)) return;
    this.scanned = undefined;
    if (this.partitions) this.partitions.remove(slot);
    else (this.flat as RowArena).clear(slot);
    this.count--;
    this.touched(slot);
  }

  get size(): number {
    return this.count;
  }

  /** Whether queries scan partitions (approximate) rather than every row. */
  get partitioned(): boolean {
    return this.partitions !== undefined;
  }

  /**
   * Cosine of a unit-length `query` with the vector at `slot`, or null when the slot has none. Right after
   * a flat `nearest` with the same query it is read from that scan's scores instead of being computed again.
   */
  cosineAt(slot: number, query: Float32Array): number | null {
    if (this.partitions) return this.partitions.cosine(slot, query);
    if (!this.has(slot)) return null;
    const flat = this.flat as RowArena;
    if (query === this.scanned && slot < this.scannedSlots) return flat.scores[slot] as number;
    return flat.cosine(slot, query);
  }

  /** The k best accepted slots above the floor, best first, with their cosines. */
  nearest(
    query: Float32Array,
    k: number,
    accept: (slot: number) => boolean,
    options: NearestOptions,
  ): { slot: number; score: number }[] {
    if (this.count === 0 || k <= 0 || query.length !== this.dim) return [];
    if (this.partitions)
      return this.partitions.nearest(query, k, this.count * this.policy.scan, accept, options.floor);
    const flat = this.flat as RowArena;
    const slots = this.highest + 1;
    const out = this.scoreAll(flat, query, slots);
    const invNorms = flat.invNorms;
    const top = new TopK(k);
    // One bar for the cheap test: the floor, raised to the k-th best once k slots are kept.
    let bar = options.floor;
    for (let slot = 0; slot < slots; slot++) {
      const score = out[slot] as number;
      if (score <= bar || invNorms[slot] === 0 || !accept(slot)) continue;
      top.push(slot, score);
      bar = Math.max(options.floor, top.threshold);
    }
    return top.sorted();
  }

  /** Cosines of `query` with every flat row up to `slots` (a view, valid until the next call). */
  private scoreAll(flat: RowArena, query: Float32Array, slots: number): Float32Array {
    flat.prepare(query);
    flat.score(0, slots);
    this.scanned = query;
    this.scannedSlots = slots;
    return flat.scores;
  }

  /**
   * Starts partitioning in the background when the policy says it is due (the store reached the
   * threshold, or grew well past what its partitions were trained on); resolves when the new layout
   * serves, rejects with PartitioningStopped after `stopPartitioning`; undefined when nothing is due.
   * The work is done in slices of a few ms between which the event loop runs; queries meanwhile use the
   * current layout, and writes made meanwhile are placed again at the end.
   */
  partitionIfDue(): Promise<void> | undefined {
    const { minVectors } = this.policy;
    if (minVectors <= 0 || this.training) return undefined;
    if (!this.adopted && this.count < minVectors) return undefined;
    if (this.partitions && this.count < this.partitions.trainedOn * RETRAIN_GROWTH) return undefined;
    const training: Training = { dirty: new Set(), stopped: false };
    this.training = training;
    return this.partition(training).finally(() => {
      if (this.training === training) this.training = undefined;
    });
  }

  /** Stops a background partitioning (its promise rejects with PartitioningStopped). */
  stopPartitioning(): void {
    if (this.training) this.training.stopped = true;
  }

  private async partition(training: Training): Promise<void> {
    const pause = (): Promise<void> =>
      new Promise((resolve, reject) =>
        setImmediate(() => (training.stopped ? reject(new PartitioningStopped()) : resolve())),
      );
    const source: TrainingSource = {
      dim: this.dim,
      slots: () => this.filledSlots(),
      read: (slot, out) => this.readUnit(slot, out),
      searchFor: (c, n) => this.centroidSearch(c, n),
      pause,
    };
    // A snapshot's partitions are taken as they were (a slot written since is assigned afresh).
    const adopted = this.adopted;
    this.adopted = undefined;
    const trainedOn = adopted?.trainedOn ?? this.count;
    const count = adopted?.count ?? partitionCountFor(trainedOn);
    const centroids = adopted?.centroids ?? (await trainCentroids(source, count));
    const search = this.centroidSearch(centroids, count);
    // Assign every vector to its partition (the slow part: a centroid scan each), then lay them out.
    const slots = this.filledSlots();
    const partition = new Int32Array(slots.length);
    const vector = new Float32Array(this.dim);
    const known = adopted?.partitionOf;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as number;
      const given = known && slot < known.length ? (known[slot] as number) : -1;
      if (given >= 0 && !training.dirty.has(slot)) {
        partition[i] = given;
        continue;
      }
      if (i % SLICE === SLICE - 1) await pause();
      if (!this.has(slot)) continue; // removed meanwhile: dirty, handled below
      this.readUnit(slot, vector);
      partition[i] = search.best(vector);
    }
    const next = new VectorPartitions(this.dim, this.precision, centroids, count, trainedOn, search);
    // Slots removed meanwhile are left out (compacted in place, in slices like the rest).
    let kept = 0;
    for (let i = 0; i < slots.length; i++) {
      if (i % (SLICE * 20) === SLICE * 20 - 1) await pause();
      const slot = slots[i] as number;
      if (!this.has(slot)) continue;
      slots[kept] = slot;
      partition[kept] = partition[i] as number;
      kept++;
    }
    await next.load(
      slots.subarray(0, kept),
      partition.subarray(0, kept),
      (slot, out) => this.readUnit(slot, out),
      pause,
    );
    // No pause from here on: writes made during the work are applied to the new layout, then it serves.
    for (const slot of training.dirty) {
      if (this.has(slot)) {
        this.readUnit(slot, vector);
        next.set(slot, vector);
      } else next.remove(slot);
    }
    this.partitions = next;
    this.flat = undefined;
    this.scanned = undefined;
  }

  /** Slots holding a vector, ascending. */
  private filledSlots(): Int32Array {
    if (this.partitions) return this.partitions.slots();
    const slots = new Int32Array(this.count);
    let at = 0;
    for (let slot = 0; slot <= this.highest && at < slots.length; slot++)
      if (this.has(slot)) slots[at++] = slot;
    return slots.subarray(0, at);
  }

  /** The stored vector of `slot` (which has one) at unit length, into `out`. */
  private readUnit(slot: number, out: Float32Array): void {
    if (this.partitions) this.partitions.read(slot, out);
    else (this.flat as RowArena).readUnit(slot, out);
  }

  /** Centroid search on a flat store of its own (exact: centroids are few). */
  private centroidSearch(centroids: Float32Array, count: number): CentroidSearch {
    const arena = new RowArena(this.dim, 'int8', count);
    for (let c = 0; c < count; c++) arena.write(c, centroids.subarray(c * this.dim, (c + 1) * this.dim));
    const scores = (vector: Float32Array): Float32Array => {
      arena.prepare(vector);
      arena.score(0, count);
      return arena.scores;
    };
    return {
      best: (vector) => {
        const all = scores(vector);
        let best = 0;
        for (let c = 1; c < count; c++) if ((all[c] as number) > (all[best] as number)) best = c;
        return best;
      },
      ranked: (query) => rankByScore(scores(query), count),
    };
  }

  bytes(): number {
    return (this.flat?.bytes() ?? 0) + (this.partitions?.bytes() ?? 0);
  }

  // --- persisted snapshots (index-snapshot.ts) -------------------------------------------------------
  // Only `data`, `invNorms`, `capacity`, `highest` and `count` are read or written here: a restored store
  // is the one that was exported, row for row, with nothing re-quantized.

  /**
   * What a snapshot keeps: every slot's row (slot order, as stored) and inverse norm, and when partitioned
   * the centroids and each slot's partition, so a restored store is partitioned again without training.
   * Copies (the caller may keep it while the store changes). A generator: a partitioned store's rows are
   * gathered back into slot order in slices (1M rows take ~0.3 s), between which it yields; the caller
   * must not change the store until it returns (a background partitioning that finishes meanwhile swaps
   * layouts but changes no vector, and the copy reads the layout it started with).
   */
  *exportState(step = 50_000): Generator<undefined, VectorStoreState> {
    const rows = this.highest + 1;
    if (!this.partitions) {
      const flat = this.flat as RowArena;
      return {
        rows,
        count: this.count,
        invNorms: flat.invNorms.slice(0, rows),
        data: flat.rows(0, rows).slice(),
      };
    }
    const partitions = this.partitions;
    const arena = partitions.arena;
    const invNorms = new Float32Array(rows);
    const data = arena.emptyRows(rows);
    const partitionOf = new Int32Array(rows).fill(-1);
    for (let slot = 0; slot < rows; slot++) {
      if (slot % step === step - 1) yield;
      const row = partitions.rowAt(slot);
      if (row < 0) continue;
      invNorms[slot] = arena.invNorms[row] as number;
      data.set(arena.rows(row, 1), slot * arena.lanes);
      partitionOf[slot] = partitions.partitionAt(slot);
    }
    return {
      rows,
      count: this.count,
      invNorms,
      data,
      partitions: {
        count: partitions.count,
        trainedOn: partitions.trainedOn,
        centroids: partitions.centroids.slice(),
        partitionOf,
      },
    };
  }

  /**
   * A store holding exactly `state`, flat; its partitions, if it had some and the policy partitions, are
   * laid out again by the next `partitionIfDue` (no training). Throws when the state does not hold
   * together or was exported from another dimension or precision.
   */
  static fromState(
    dim: number,
    precision: VectorPrecision,
    state: VectorStoreState,
    policy: PartitionPolicy = NO_PARTITIONS,
  ): VectorStore {
    const store = new VectorStore(dim, precision, Math.max(64, state.rows), policy);
    const flat = store.flat as RowArena;
    const sameType = state.data instanceof Int8Array === (precision === 'int8');
    if (!sameType || state.invNorms.length !== state.rows || state.data.length !== state.rows * flat.lanes)
      throw new Error("the snapshot's vectors do not fit this store (dimension or precision)");
    let count = 0;
    for (let slot = 0; slot < state.rows; slot++) if (state.invNorms[slot] !== 0) count++;
    if (count !== state.count) throw new Error("the snapshot's vector count does not match its rows");
    flat.invNorms.set(state.invNorms);
    flat.rows(0, state.rows).set(state.data);
    store.highest = state.rows - 1;
    store.count = count;
    const partitions = state.partitions;
    if (partitions) {
      const { count: n, centroids, partitionOf } = partitions;
      if (
        !Number.isInteger(n) ||
        n < 1 ||
        centroids.length !== n * dim ||
        partitionOf.length !== state.rows ||
        !Number.isInteger(partitions.trainedOn) ||
        partitions.trainedOn < 1
      )
        throw new Error("the snapshot's vector partitions do not fit its vectors");
      for (let slot = 0; slot < state.rows; slot++) {
        const p = partitionOf[slot] as number;
        if (p < -1 || p >= n || p >= 0 !== (state.invNorms[slot] !== 0))
          throw new Error("the snapshot's vector partitions disagree with its rows");
      }
      if (policy.minVectors > 0 && precision === 'int8') store.adopted = partitions;
    }
    return store;
  }
}

/** What a snapshot keeps of a vector store (see VectorStore.exportState). */
export interface VectorStoreState {
  /** Slots covered: `data` holds `rows` rows of the store's lanes, `invNorms` one per row (0 = none). */
  rows: number;
  count: number;
  invNorms: Float32Array;
  data: Int8Array | Float32Array;
  partitions?: PartitionState;
}

/** A partitioned store's centroids and each slot's partition (-1 = no vector). */
export interface PartitionState {
  count: number;
  trainedOn: number;
  centroids: Float32Array;
  partitionOf: Int32Array;
}

/** Scales a vector to unit length in place (a zero vector stays zero). */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] as number) ** 2;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) / norm;
  return vector;
}

/** Float32 vector <-> the little-endian bytes stored in Redis. */
export function vectorToBuffer(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** A view when the bytes are 4-byte aligned (no copy; do not keep it past the buffer's life), else a copy. */
export function bufferToVector(buffer: Buffer): Float32Array {
  if (buffer.byteOffset % 4 === 0)
    return new Float32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 4);
  const copy = new Float32Array(buffer.byteLength / 4);
  new Uint8Array(copy.buffer).set(buffer);
  return copy;
}
