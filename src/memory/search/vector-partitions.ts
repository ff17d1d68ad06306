/**
 * A partitioned (IVF) layout of a workspace's vectors, so a query on a large workspace scores a fraction of
 * them instead of all: k-means centroids split the vectors into partitions, each vector is stored with the
 * other vectors of its nearest centroid's partition, and a query scores the partitions whose centroids are
 * nearest to it until it has scored its budget of rows.
 *
 * Storage: a partition is a chain of blocks of BLOCK consecutive rows in one RowArena, full except the
 * last; a partition laid out by `load` is one run of consecutive blocks, so its scan is one streaming
 * kernel call. Scattered reads were measured first and lost: on 1M rows of 128 B, scoring 10% of the rows
 * through a list of slots took ~80 ns per row (cache misses), a full scan ~21 ns per row.
 *
 * Rules:
 * - Membership is exact: every slot with a vector has exactly one row, in the partition of the centroid
 *   nearest to it when it was written; removal moves the partition's last row into the hole, so blocks
 *   stay dense and a result never repeats a slot.
 * - Centroids are not moved as rows arrive; the store trains new ones when it has grown well past what
 *   they were trained on (vector-store.ts).
 * - The search is approximate: a neighbour in a partition that is not scanned is missed. The budget is in
 *   rows, not partitions, because partitions differ a lot in size (k-means on the builtin embedder's
 *   lexical vectors at 1M: the largest held 13k rows, the median 92).
 */
import { RowArena, type VectorPrecision } from './row-arena.js';
import { TopK } from './top-k.js';

/** Rows per block: 8 KB of 128-d int8 rows, long enough to stream, short enough to waste little. */
export const BLOCK = 64;
/** Vectors per centroid in the training sample (FAISS suggests 30 to 256). */
const SAMPLE_PER_CENTROID = 32;
const ITERATIONS = 6;
/** Rows handled between two pauses: a few ms of work at 1,000 centroids. */
export const SLICE = 1500;

/** Finds centroids near a vector (the store builds it: it owns the SIMD scan). */
export interface CentroidSearch {
  /** The nearest centroid. */
  best(vector: Float32Array): number;
  /** Every centroid, nearest first. */
  ranked(query: Float32Array): Int32Array;
}
export type CentroidSearchFactory = (centroids: Float32Array, count: number) => CentroidSearch;

/** What training reads: the vectors of the current layout, and a pause that lets the event loop run. */
export interface TrainingSource {
  dim: number;
  /** Slots that hold a vector, ascending. */
  slots: () => Int32Array;
  /** Writes the unit vector of `slot` into `out`. */
  read: (slot: number, out: Float32Array) => void;
  searchFor: CentroidSearchFactory;
  /** Resolves after other work had a turn; rejects when the work should stop. */
  pause: () => Promise<void>;
}

/** Partitions for `vectors` rows: about √n, so a partition holds about √n rows. */
export function partitionCountFor(vectors: number): number {
  return Math.max(16, Math.min(4096, Math.round(Math.sqrt(vectors))));
}

/**
 * Spherical k-means on an even sample of the rows, deterministic (the first centroids are evenly spaced
 * sample rows): returns `count` unit centroids, packed.
 */
export async function trainCentroids(source: TrainingSource, count: number): Promise<Float32Array> {
  const { dim } = source;
  const slots = source.slots();
  const sampleSize = Math.min(slots.length, count * SAMPLE_PER_CENTROID);
  const sample = new Float32Array(sampleSize * dim);
  const row = new Float32Array(dim);
  for (let i = 0; i < sampleSize; i++) {
    source.read(slots[Math.floor((i * slots.length) / sampleSize)] as number, row);
    sample.set(row, i * dim);
  }
  const centroids = new Float32Array(count * dim);
  for (let c = 0; c < count; c++) {
    const from = Math.floor((c * sampleSize) / count) * dim;
    centroids.set(sample.subarray(from, from + dim), c * dim);
  }
  const sums = new Float64Array(count * dim);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    sums.fill(0);
    const search = source.searchFor(centroids, count);
    for (let i = 0; i < sampleSize; i++) {
      if (i % SLICE === SLICE - 1) await source.pause();
      const vector = sample.subarray(i * dim, (i + 1) * dim);
      const c = search.best(vector);
      for (let j = 0; j < dim; j++) sums[c * dim + j] = (sums[c * dim + j] as number) + (vector[j] as number);
    }
    for (let c = 0; c < count; c++) {
      let norm = 0;
      for (let j = 0; j < dim; j++) norm += (sums[c * dim + j] as number) ** 2;
      if (norm === 0) continue; // an empty partition keeps its centroid
      const inv = 1 / Math.sqrt(norm);
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = (sums[c * dim + j] as number) * inv;
    }
    await source.pause();
  }
  return centroids;
}

export class VectorPartitions {
  readonly arena: RowArena;
  /** By slot: partition (-1 = no vector) and row. */
  private partitionOf = new Int32Array(0);
  private rowOf = new Int32Array(0);
  /** By row: the slot it holds, -1 for none. */
  private slotAt: Int32Array;
  /** By partition: its blocks in order, and how many rows it holds. */
  private readonly blocks: number[][];
  private readonly sizes: Int32Array;
  private readonly freeBlocks: number[] = [];
  private nextBlock = 0;
  private assigned = 0;

  /**
   * @param centroids packed unit centroids, `count` of them
   * @param trainedOn how many vectors the store held when they were trained
   * @param search the centroids' search, built by the store
   */
  constructor(
    dim: number,
    precision: VectorPrecision,
    readonly centroids: Float32Array,
    readonly count: number,
    readonly trainedOn: number,
    readonly search: CentroidSearch,
  ) {
    this.arena = new RowArena(dim, precision, BLOCK * 16);
    this.slotAt = new Int32Array(this.arena.capacity).fill(-1);
    this.blocks = Array.from({ length: count }, () => []);
    this.sizes = new Int32Array(count);
  }

  get size(): number {
    return this.assigned;
  }

  has(slot: number): boolean {
    return slot < this.partitionOf.length && (this.partitionOf[slot] as number) >= 0;
  }

  /** The partition of `slot`, -1 when it has no vector. */
  partitionAt(slot: number): number {
    return slot < this.partitionOf.length ? (this.partitionOf[slot] as number) : -1;
  }

  /** The arena row of `slot`, -1 when it has no vector. */
  rowAt(slot: number): number {
    return slot < this.rowOf.length ? (this.rowOf[slot] as number) : -1;
  }

  /**
   * Lays out `vectors` slots at once, each partition in consecutive blocks (the layout scans best):
   * `partition[i]` is the partition of `slots[i]`, `read` gives each one's unit vector.
   */
  async load(
    slots: Int32Array,
    partition: Int32Array,
    read: (slot: number, out: Float32Array) => void,
    pause: () => Promise<void>,
  ): Promise<void> {
    const counts = new Int32Array(this.count);
    for (const p of partition) counts[p] = (counts[p] as number) + 1;
    // Each partition's blocks are reserved in one run, then filled in slot order.
    for (let p = 0; p < this.count; p++) {
      const run = Math.ceil((counts[p] as number) / BLOCK);
      for (let k = 0; k < run; k++) (this.blocks[p] as number[]).push(this.nextBlock++);
    }
    this.reserve(this.nextBlock * BLOCK);
    const vector = new Float32Array(this.arena.dim);
    for (let i = 0; i < slots.length; i++) {
      if (i % SLICE === SLICE - 1) await pause();
      const slot = slots[i] as number;
      read(slot, vector);
      this.place(slot, partition[i] as number, vector);
    }
  }

  /** Stores (or replaces) the vector of `slot`, in the partition of its nearest centroid. */
  set(slot: number, vector: Float32Array): void {
    const p = this.search.best(vector);
    if (this.has(slot) && this.partitionOf[slot] === p) {
      this.arena.write(this.rowOf[slot] as number, vector);
      return;
    }
    this.remove(slot);
    this.place(slot, p, vector);
  }

  private place(slot: number, p: number, vector: Float32Array): void {
    const index = this.sizes[p] as number;
    const blocks = this.blocks[p] as number[];
    if (index === blocks.length * BLOCK) {
      const block = this.freeBlocks.pop() ?? this.nextBlock++;
      this.reserve((block + 1) * BLOCK);
      blocks.push(block);
    }
    const row = (blocks[Math.floor(index / BLOCK)] as number) * BLOCK + (index % BLOCK);
    if (!this.arena.write(row, vector)) {
      this.arena.clear(row);
      return; // a zero vector is no vector
    }
    this.sizes[p] = index + 1;
    if (slot >= this.partitionOf.length) {
      const length = Math.max(slot + 1, this.partitionOf.length * 2, 1024);
      const partitionOf = new Int32Array(length).fill(-1);
      partitionOf.set(this.partitionOf);
      this.partitionOf = partitionOf;
      const rowOf = new Int32Array(length).fill(-1);
      rowOf.set(this.rowOf);
      this.rowOf = rowOf;
    }
    this.partitionOf[slot] = p;
    this.rowOf[slot] = row;
    this.slotAt[row] = slot;
    this.assigned++;
  }

  remove(slot: number): void {
    if (!this.has(slot)) return;
    const p = this.partitionOf[slot] as number;
    const row = this.rowOf[slot] as number;
    const blocks = this.blocks[p] as number[];
    const lastIndex = (this.sizes[p] as number) - 1;
    const last = (blocks[Math.floor(lastIndex / BLOCK)] as number) * BLOCK + (lastIndex % BLOCK);
    if (row !== last) {
      const moved = this.slotAt[last] as number;
      this.arena.copy(last, row);
      this.slotAt[row] = moved;
      this.rowOf[moved] = row;
    }
    this.arena.clear(last);
    this.slotAt[last] = -1;
    this.sizes[p] = lastIndex;
    if (lastIndex % BLOCK === 0) this.freeBlocks.push(blocks.pop() as number);
    this.partitionOf[slot] = -1;
    this.rowOf[slot] = -1;
    this.assigned--;
  }

  /** The unit vector of `slot` into `out` (the slot must have one). */
  read(slot: number, out: Float32Array): void {
    this.arena.readUnit(this.rowOf[slot] as number, out);
  }

  cosine(slot: number, query: Float32Array): number | null {
    return this.has(slot) ? this.arena.cosine(this.rowOf[slot] as number, query) : null;
  }

  /** Slots that hold a vector, ascending. */
  slots(): Int32Array {
    const out = new Int32Array(this.assigned);
    let at = 0;
    for (let slot = 0; slot < this.partitionOf.length; slot++) if (this.has(slot)) out[at++] = slot;
    return out;
  }

  /**
   * The k best accepted slots above `floor`, from the partitions nearest to the query until `budget`
   * rows were scored (at least one partition). Consecutive blocks are scored in one kernel call.
   */
  nearest(
    query: Float32Array,
    k: number,
    budget: number,
    accept: (slot: number) => boolean,
    floor: number,
  ): { slot: number; score: number }[] {
    const arena = this.arena;
    arena.prepare(query);
    const scores = arena.scores;
    const slotAt = this.slotAt;
    const top = new TopK(k);
    let bar = floor;
    const visit = (first: number, count: number): void => {
      arena.score(first, count);
      for (let row = first; row < first + count; row++) {
        const score = scores[row] as number;
        if (score <= bar) continue;
        const slot = slotAt[row] as number;
        if (slot < 0 || !accept(slot)) continue;
        top.push(slot, score);
        bar = Math.max(floor, top.threshold);
      }
    };
    let scanned = 0;
    for (const p of this.search.ranked(query)) {
      const size = this.sizes[p] as number;
      if (size === 0) continue;
      const blocks = this.blocks[p] as number[];
      let runStart = blocks[0] as number;
      let runEnd = runStart + 1;
      for (let i = 1; i < blocks.length; i++) {
        const block = blocks[i] as number;
        if (block === runEnd) runEnd++;
        else {
          visit(runStart * BLOCK, (runEnd - runStart) * BLOCK);
          runStart = block;
          runEnd = block + 1;
        }
      }
      visit(runStart * BLOCK, (runEnd - runStart) * BLOCK);
      scanned += size;
      if (scanned >= budget) break;
    }
    return top.sorted();
  }

  /** Makes room for `rows` rows (the arena doubles; the row map follows). */
  private reserve(rows: number): void {
    if (rows <= this.arena.capacity) return;
    this.arena.ensure(rows);
    const slotAt = new Int32Array(this.arena.capacity).fill(-1);
    slotAt.set(this.slotAt);
    this.slotAt = slotAt;
  }

  /** Approximate bytes held. */
  bytes(): number {
    return (
      this.arena.bytes() +
      this.partitionOf.byteLength +
      this.rowOf.byteLength +
      this.slotAt.byteLength +
      this.centroids.byteLength +
      this.nextBlock * 8
    );
  }
}

/** Indexes of `scores[0..count)`, highest score first. */
export function rankByScore(scores: Float32Array, count: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order.sort((a, b) => (scores[b] as number) - (scores[a] as number));
}
