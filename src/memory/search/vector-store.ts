import { nativeExactSearch, type NativeExactSearch } from './native-scan.js';
import { TopK } from './top-k.js';

/**
 * Embeddings of one workspace packed slot by slot in one typed array, as float32 or as int8 (each vector
 * scaled so its largest component is ±127: a quarter of the memory, and cosine stays within ~0.001).
 * Nearest-neighbour search is exact: a SIMD native scan (usearch) for large unfiltered searches, a
 * JavaScript scan for small or narrowly filtered ones; both compute cosines from the stored vectors.
 * Removed slots are zeroed so a native scan cannot return stale data as a match.
 */
export type VectorPrecision = 'float32' | 'int8';

/** Below this many slots the JavaScript scan costs about as much as calling the native one. */
const NATIVE_MIN_SLOTS = 512;

export interface NearestOptions {
  /** Cosine at or below this is not a match. */
  floor: number;
  /** True when `accept` rejects most slots: scan only accepted slots instead of over-fetching. */
  narrow: boolean;
}

export class VectorStore {
  private data: Float32Array | Int8Array;
  /** Euclidean norm of each stored (quantized) vector; 0 = no vector in that slot. */
  private norms: Float32Array;
  private capacity: number;
  private count = 0;
  private highest = -1;

  constructor(
    readonly dim: number,
    readonly precision: VectorPrecision = 'int8',
    initialCapacity = 1024,
    private readonly native: NativeExactSearch | undefined = nativeExactSearch,
  ) {
    this.capacity = initialCapacity;
    this.data = this.allocate(this.capacity);
    this.norms = new Float32Array(this.capacity);
  }

  private allocate(slots: number): Float32Array | Int8Array {
    return this.precision === 'int8' ? new Int8Array(slots * this.dim) : new Float32Array(slots * this.dim);
  }

  private grow(slot: number): void {
    if (slot < this.capacity) return;
    let capacity = this.capacity;
    while (capacity <= slot) capacity *= 2;
    const data = this.allocate(capacity);
    data.set(this.data);
    const norms = new Float32Array(capacity);
    norms.set(this.norms);
    this.data = data;
    this.norms = norms;
    this.capacity = capacity;
  }

  set(slot: number, vector: Float32Array): void {
    if (vector.length !== this.dim) return;
    this.grow(slot);
    const base = slot * this.dim;
    let sum = 0;
    if (this.data instanceof Int8Array) {
      let max = 0;
      for (let i = 0; i < this.dim; i++) max = Math.max(max, Math.abs(vector[i] as number));
      const scale = max > 0 ? 127 / max : 0;
      for (let i = 0; i < this.dim; i++) {
        const q = Math.round((vector[i] as number) * scale);
        this.data[base + i] = q;
        sum += q * q;
      }
    } else {
      this.data.set(vector, base);
      for (let i = 0; i < this.dim; i++) sum += (vector[i] as number) ** 2;
    }
    if (this.norms[slot] === 0 && sum > 0) this.count++;
    if (this.norms[slot] !== 0 && sum === 0) this.count--;
    this.norms[slot] = Math.sqrt(sum);
    if (slot > this.highest) this.highest = slot;
  }

  has(slot: number): boolean {
    return slot < this.capacity && (this.norms[slot] as number) > 0;
  }

  remove(slot: number): void {
    if (!this.has(slot)) return;
    this.data.fill(0, slot * this.dim, (slot + 1) * this.dim);
    this.norms[slot] = 0;
    this.count--;
  }

  get size(): number {
    return this.count;
  }

  /** Cosine of a unit-length `query` with the vector at `slot`, or null when the slot has none. */
  cosineAt(slot: number, query: Float32Array): number | null {
    const norm = slot < this.capacity ? (this.norms[slot] as number) : 0;
    if (norm === 0) return null;
    const base = slot * this.dim;
    const data = this.data;
    let dot = 0;
    for (let i = 0; i < this.dim; i++) dot += (query[i] as number) * (data[base + i] as number);
    return dot / norm;
  }

  /** The k best accepted slots above the floor, best first, with exact cosines. */
  nearest(
    query: Float32Array,
    k: number,
    accept: (slot: number) => boolean,
    options: NearestOptions,
  ): { slot: number; score: number }[] {
    const slots = this.highest + 1;
    if (this.count === 0 || k <= 0) return [];
    if (this.native && !options.narrow && slots >= NATIVE_MIN_SLOTS) {
      const found = this.nativeNearest(this.native, query, k, slots, accept, options.floor);
      if (found) return found;
    }
    const top = new TopK(k);
    for (let slot = 0; slot < slots; slot++) {
      if (this.norms[slot] === 0 || !accept(slot)) continue;
      const cosine = this.cosineAt(slot, query) as number;
      if (cosine > options.floor && cosine > top.threshold) top.push(slot, cosine);
    }
    return top.sorted();
  }

  /** Over-fetches from the native scan and filters; undefined when filtering left too few (caller scans). */
  private nativeNearest(
    native: NativeExactSearch,
    query: Float32Array,
    k: number,
    slots: number,
    accept: (slot: number) => boolean,
    floor: number,
  ): { slot: number; score: number }[] | undefined {
    const fetch = Math.min(slots, k + 128);
    const probe = this.data instanceof Int8Array ? quantize(query) : query;
    const matches = native(this.data.subarray(0, slots * this.dim), probe, this.dim, fetch);
    const found: { slot: number; score: number }[] = [];
    let belowFloor = false;
    for (let i = 0; i < matches.keys.length && found.length < k; i++) {
      const slot = Number(matches.keys[i]);
      if (slot >= slots || this.norms[slot] === 0 || !accept(slot)) continue;
      // Cosine distance of the stored vectors, as the native scan computed it.
      const cosine = 1 - (matches.distances[i] as number);
      if (cosine <= floor) {
        belowFloor = true;
        break;
      }
      found.push({ slot, score: cosine });
    }
    // Enough matches, or the scan reached vectors below the floor: the answer is complete.
    if (found.length >= k || belowFloor || fetch >= slots) return found;
    return undefined;
  }

  bytes(): number {
    return this.data.byteLength + this.norms.byteLength;
  }
}

function quantize(vector: Float32Array): Int8Array {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i] as number));
  const scale = max > 0 ? 127 / max : 0;
  const out = new Int8Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = Math.round((vector[i] as number) * scale);
  return out;
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
