import { VECTOR_DOTS_WASM_BASE64 } from './simd/vector-dots.wasm.js';
import { TopK } from './top-k.js';

/**
 * Embeddings of one workspace, packed slot by slot in a WebAssembly memory, as int8 (each vector scaled so
 * its largest component is ±127: a quarter of the memory, cosine within ~0.01) or float32. Nearest-
 * neighbour search is exact: one SIMD call (simd/vector-dots.wat) computes the cosine of the query with
 * every slot, then a JavaScript pass keeps the best accepted ones (100k × 128 int8 in about 1 ms).
 * Removed slots are zeroed, so they score 0 and never pass a positive floor.
 */
export type VectorPrecision = 'float32' | 'int8';

export interface NearestOptions {
  /** Cosine at or below this is not a match. */
  floor: number;
}

interface DotsExports {
  dotsI8(
    data: number,
    query: number,
    stride: number,
    count: number,
    invNorms: number,
    out: number,
    queryInv: number,
  ): void;
  dotsI8x128(
    data: number,
    query: number,
    count: number,
    invNorms: number,
    out: number,
    queryInv: number,
  ): void;
  dotsF32(data: number, query: number, stride: number, count: number, out: number): void;
}

const DOTS_MODULE = new WebAssembly.Module(Buffer.from(VECTOR_DOTS_WASM_BASE64, 'base64'));
const PAGE = 65_536;
/** The most dimensions supported. */
const MAX_DIM = 4096;

const roundUp = (value: number, multiple: number): number => Math.ceil(value / multiple) * multiple;

export class VectorStore {
  /** Lanes per row: the dimension padded to what the SIMD loop steps by. */
  private readonly stride: number;
  private readonly rowBytes: number;
  /** The query area at the start of the memory: one float32 query, or the widened int16 one. */
  private readonly queryBytes: number;
  private capacity = 0;
  private count = 0;
  private highest = -1;
  private memory!: WebAssembly.Memory;
  private dots!: DotsExports;
  private outOffset = 0;
  private invNormsOffset = 0;
  private dataOffset = 0;
  private out!: Float32Array;
  /** 1 / norm of each stored vector; 0 = no vector in that slot. */
  private invNorms!: Float32Array;
  private data!: Int8Array | Float32Array;
  /** The query whose scores `out` holds for slots below `scannedSlots` (see cosineAt). */
  private scanned: Float32Array | undefined;
  private scannedSlots = 0;

  constructor(
    readonly dim: number,
    readonly precision: VectorPrecision = 'int8',
    initialCapacity = 1024,
  ) {
    if (dim > MAX_DIM) throw new Error(`vectors of ${dim} dimensions are not supported (at most 4096)`);
    this.stride = precision === 'int8' ? roundUp(dim, 16) : roundUp(dim, 4);
    this.rowBytes = precision === 'int8' ? this.stride : this.stride * 4;
    this.queryBytes = roundUp(this.stride * 4, 16);
    this.allocate(Math.max(1, initialCapacity));
  }

  /** Lays out a memory for `capacity` slots: query | scores | inverse norms | rows. Copies what exists. */
  private allocate(capacity: number): void {
    const outOffset = this.queryBytes;
    const invNormsOffset = outOffset + capacity * 4;
    const dataOffset = roundUp(invNormsOffset + capacity * 4, 16);
    const bytes = dataOffset + capacity * this.rowBytes;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    const invNorms = new Float32Array(memory.buffer, invNormsOffset, capacity);
    const data =
      this.precision === 'int8'
        ? new Int8Array(memory.buffer, dataOffset, capacity * this.stride)
        : new Float32Array(memory.buffer, dataOffset, capacity * this.stride);
    if (this.capacity > 0) {
      invNorms.set(this.invNorms);
      data.set(this.data);
    }
    this.memory = memory;
    this.dots = new WebAssembly.Instance(DOTS_MODULE, { env: { memory } }).exports as unknown as DotsExports;
    this.capacity = capacity;
    this.outOffset = outOffset;
    this.invNormsOffset = invNormsOffset;
    this.dataOffset = dataOffset;
    this.out = new Float32Array(memory.buffer, outOffset, capacity);
    this.invNorms = invNorms;
    this.data = data;
  }

  set(slot: number, vector: Float32Array): void {
    if (vector.length !== this.dim) return;
    this.scanned = undefined;
    if (slot >= this.capacity) {
      let capacity = this.capacity;
      while (capacity <= slot) capacity *= 2;
      this.allocate(capacity);
    }
    const base = slot * this.stride;
    let sum = 0;
    if (this.data instanceof Int8Array) {
      const scale = quantizationScale(vector);
      for (let i = 0; i < this.dim; i++) {
        const q = Math.round((vector[i] as number) * scale);
        this.data[base + i] = q;
        sum += q * q;
      }
    } else {
      this.data.set(vector, base);
      for (let i = 0; i < this.dim; i++) sum += (vector[i] as number) ** 2;
    }
    const had = this.invNorms[slot] !== 0;
    this.invNorms[slot] = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    if (!had && sum > 0) this.count++;
    if (had && sum === 0) this.count--;
    if (slot > this.highest) this.highest = slot;
  }

  has(slot: number): boolean {
    return slot < this.capacity && this.invNorms[slot] !== 0;
  }

  remove(slot: number): void {
    if (!this.has(slot)) return;
    this.scanned = undefined;
    this.data.fill(0, slot * this.stride, (slot + 1) * this.stride);
    this.invNorms[slot] = 0;
    this.count--;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Cosine of a unit-length `query` with the vector at `slot`, or null when the slot has none. Right after
   * `nearest` with the same query it is read from that scan's scores instead of being computed again.
   */
  cosineAt(slot: number, query: Float32Array): number | null {
    const inv = slot < this.capacity ? (this.invNorms[slot] as number) : 0;
    if (inv === 0) return null;
    if (query === this.scanned && slot < this.scannedSlots) return this.out[slot] as number;
    const base = slot * this.stride;
    const data = this.data;
    let dot = 0;
    for (let i = 0; i < this.dim; i++) dot += (query[i] as number) * (data[base + i] as number);
    return dot * inv;
  }

  /** The k best accepted slots above the floor, best first, with their cosines. */
  nearest(
    query: Float32Array,
    k: number,
    accept: (slot: number) => boolean,
    options: NearestOptions,
  ): { slot: number; score: number }[] {
    const slots = this.highest + 1;
    if (this.count === 0 || k <= 0 || query.length !== this.dim) return [];
    this.scoreAll(query, slots);
    this.scanned = query;
    this.scannedSlots = slots;
    const out = this.out;
    const invNorms = this.invNorms;
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

  /** Fills `out[0..slots)` with the cosine of `query` (unit length) and each slot. */
  private scoreAll(query: Float32Array, slots: number): void {
    if (this.data instanceof Int8Array) {
      // The query is quantized like the rows, then stored widened to int16 (see vector-dots.wat).
      const probe = new Int16Array(this.memory.buffer, 0, this.stride);
      const scale = quantizationScale(query);
      let sum = 0;
      for (let i = 0; i < this.dim; i++) {
        const q = Math.round((query[i] as number) * scale);
        probe[i] = q;
        sum += q * q;
      }
      probe.fill(0, this.dim);
      const queryInv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
      if (this.stride === 128)
        this.dots.dotsI8x128(this.dataOffset, 0, slots, this.invNormsOffset, this.outOffset, queryInv);
      else
        this.dots.dotsI8(
          this.dataOffset,
          0,
          this.stride,
          slots,
          this.invNormsOffset,
          this.outOffset,
          queryInv,
        );
    } else {
      const probe = new Float32Array(this.memory.buffer, 0, this.stride);
      probe.set(query);
      probe.fill(0, this.dim);
      this.dots.dotsF32(this.dataOffset, 0, this.stride, slots, this.outOffset);
    }
  }

  bytes(): number {
    return this.memory.buffer.byteLength;
  }

  // --- persisted snapshots (index-snapshot.ts) -------------------------------------------------------
  // Only `data`, `invNorms`, `capacity`, `highest` and `count` are read or written here: a restored store
  // is the one that was exported, row for row, with nothing re-quantized.

  /** Copies of the rows of slots 0..highest (as stored: int8 or float32 lanes) and their inverse norms. */
  exportState(): VectorStoreState {
    const rows = this.highest + 1;
    const lanes = this.data.length / this.capacity;
    return {
      rows,
      count: this.count,
      invNorms: this.invNorms.slice(0, rows),
      data: this.data.slice(0, rows * lanes),
    };
  }

  /** A store holding exactly `state`; throws when it was exported from another dimension or precision. */
  static fromState(dim: number, precision: VectorPrecision, state: VectorStoreState): VectorStore {
    const store = new VectorStore(dim, precision, Math.max(64, state.rows));
    const lanes = store.data.length / store.capacity;
    const sameType = state.data instanceof Int8Array === store.data instanceof Int8Array;
    if (!sameType || state.invNorms.length !== state.rows || state.data.length !== state.rows * lanes)
      throw new Error("the snapshot's vectors do not fit this store (dimension or precision)");
    let count = 0;
    for (let slot = 0; slot < state.rows; slot++) if (state.invNorms[slot] !== 0) count++;
    if (count !== state.count) throw new Error("the snapshot's vector count does not match its rows");
    store.invNorms.set(state.invNorms);
    store.data.set(state.data);
    store.highest = state.rows - 1;
    store.count = count;
    return store;
  }
}

/** What a snapshot keeps of a vector store: `rows` slots of lanes each, and each slot's inverse norm. */
export interface VectorStoreState {
  rows: number;
  count: number;
  invNorms: Float32Array;
  data: Int8Array | Float32Array;
}

/** Scale that maps the largest component to ±127. */
function quantizationScale(vector: Float32Array): number {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i] as number));
  return max > 0 ? 127 / max : 0;
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
