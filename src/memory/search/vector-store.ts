import { VECTOR_DOTS_WASM_BASE64 } from './simd/vector-dots.wasm.js';
import { TopK } from './top-k.js';

/**
 * Embeddings of one workspace, packed slot by slot in a WebAssembly memory, as int8 (each vector scaled so
 * its largest component is ±127: a quarter of the memory, cosine within ~0.01) or float32. Nearest-
 * neighbour search is exact: one SIMD call (simd/vector-dots.wat) computes the cosine of the query with
 * every slot, then a JavaScript pass keeps the best accepted ones (100k × 128 int8 in about 1 ms).
 * Removed slots are zeroed, so they score 0 and never pass a positive floor.
 *
 * Large int8 stores (from `prefilter.minVectors` vectors) scan a binary prefilter first: each row also has a
 * ternary sign code (two bit planes, component > 0 and < 0: 32 bytes for 128 dimensions; plain sign bits
 * lose too much on the builtin embedder's sparse vectors), the query's code is compared with every row's
 * (agreeing minus disagreeing signs) in one SIMD call (a quarter of the bytes of the int8 scan), and only the
 * `prefilter.candidates` nearest codes are rescored with the int8 dot product, so their scores are exactly
 * the ones the full scan gives. It is approximate in which rows are rescored: bench/profile-search.ts
 * measures recall against the full scan. When fewer than k rescored rows pass the floor and the filter, the
 * full scan runs instead, so heavy filters lose nothing.
 */
export type VectorPrecision = 'float32' | 'int8';

export interface PrefilterOptions {
  /** Stores with at least this many vectors use the binary prefilter (0 = never). */
  minVectors: number;
  /** Rows rescored with int8 after the prefilter (at least k are). */
  candidates: number;
}

export const NO_PREFILTER: PrefilterOptions = { minVectors: 0, candidates: 0 };

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
  dotsF32(data: number, query: number, stride: number, count: number, out: number): void;
  hamming(
    codes: number,
    query: number,
    planeBytes: number,
    count: number,
    invNorms: number,
    dist: number,
    hist: number,
  ): void;
  gather(dist: number, count: number, cutoff: number, out: number, ties: number): number;
  dotsI8Slots(
    data: number,
    query: number,
    stride: number,
    list: number,
    n: number,
    invNorms: number,
    queryInv: number,
  ): void;
}

const DOTS_MODULE = new WebAssembly.Module(Buffer.from(VECTOR_DOTS_WASM_BASE64, 'base64'));
const PAGE = 65_536;
/** The most dimensions supported (the query area holds a float32 or widened int16 query). */
const MAX_DIM = 4096;

const roundUp = (value: number, multiple: number): number => Math.ceil(value / multiple) * multiple;

export class VectorStore {
  /** Lanes per row: the dimension padded to what the SIMD loop steps by. */
  private readonly stride: number;
  private readonly rowBytes: number;
  /** Bytes of one plane of a row's sign code (int8 only; 0 for float32); a code is two planes. */
  private readonly planeBytes: number;
  private readonly codeBytes: number;
  /** Fixed area at the start of the memory: query | query code | Hamming histogram. */
  private readonly queryBytes: number;
  private readonly queryCodeOffset: number;
  private readonly histOffset: number;
  private readonly histLength: number;
  private capacity = 0;
  private count = 0;
  private highest = -1;
  private memory!: WebAssembly.Memory;
  private dots!: DotsExports;
  private outOffset = 0;
  private invNormsOffset = 0;
  private dataOffset = 0;
  private codesOffset = 0;
  private distOffset = 0;
  private codes!: Uint8Array;
  private out!: Float32Array;
  /** 1 / norm of each stored vector; 0 = no vector in that slot. */
  private invNorms!: Float32Array;
  private data!: Int8Array | Float32Array;
  /** The query whose scores `out` holds for slots below `scannedSlots` (see cosineAt). */
  private scanned: Float32Array | undefined;
  private scannedSlots = 0;
  /** Slots (ascending) and scores of the rows the last prefiltered scan rescored (see cosineAt). */
  private rescoredSlots: Int32Array | undefined;
  private rescoredScores: Float32Array | undefined;

  constructor(
    readonly dim: number,
    readonly precision: VectorPrecision = 'int8',
    initialCapacity = 64,
    /** Changeable, so bench/profile-search.ts can compare both scans on one store. */
    public prefilter: PrefilterOptions = NO_PREFILTER,
  ) {
    if (dim > MAX_DIM) throw new Error(`vectors of ${dim} dimensions are not supported (at most 4096)`);
    this.stride = precision === 'int8' ? roundUp(dim, 16) : roundUp(dim, 4);
    this.rowBytes = precision === 'int8' ? this.stride : this.stride * 4;
    this.planeBytes = precision === 'int8' ? roundUp(this.stride / 8, 16) : 0;
    this.codeBytes = this.planeBytes * 2;
    this.queryBytes = roundUp(this.stride * 4, 16);
    this.queryCodeOffset = this.queryBytes;
    this.histOffset = this.queryCodeOffset + this.codeBytes;
    this.histLength = this.planeBytes > 0 ? this.planeBytes * 16 + 1 : 0;
    this.allocate(Math.max(1, initialCapacity));
  }

  /**
   * Lays out a memory for `capacity` slots: query | query code | histogram | scores | inverse norms | rows |
   * sign codes | Hamming distances (u16). Copies what exists.
   */
  private allocate(capacity: number): void {
    const outOffset = roundUp(this.histOffset + this.histLength * 4, 16);
    const invNormsOffset = outOffset + capacity * 4;
    const dataOffset = roundUp(invNormsOffset + capacity * 4, 16);
    const codesOffset = dataOffset + capacity * this.rowBytes;
    const distOffset = codesOffset + capacity * this.codeBytes;
    const bytes = distOffset + (this.codeBytes > 0 ? capacity * 2 : 0);
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    const invNorms = new Float32Array(memory.buffer, invNormsOffset, capacity);
    const data =
      this.precision === 'int8'
        ? new Int8Array(memory.buffer, dataOffset, capacity * this.stride)
        : new Float32Array(memory.buffer, dataOffset, capacity * this.stride);
    const codes = new Uint8Array(memory.buffer, codesOffset, capacity * this.codeBytes);
    if (this.capacity > 0) {
      invNorms.set(this.invNorms);
      data.set(this.data);
      codes.set(this.codes);
    }
    this.memory = memory;
    this.dots = new WebAssembly.Instance(DOTS_MODULE, { env: { memory } }).exports as unknown as DotsExports;
    this.capacity = capacity;
    this.outOffset = outOffset;
    this.invNormsOffset = invNormsOffset;
    this.dataOffset = dataOffset;
    this.codesOffset = codesOffset;
    this.distOffset = distOffset;
    this.out = new Float32Array(memory.buffer, outOffset, capacity);
    this.invNorms = invNorms;
    this.data = data;
    this.codes = codes;
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
      const codeBase = slot * this.codeBytes;
      this.codes.fill(0, codeBase, codeBase + this.codeBytes);
      for (let i = 0; i < this.dim; i++) {
        const q = Math.round((vector[i] as number) * scale);
        this.data[base + i] = q;
        sum += q * q;
        if (q !== 0) {
          const at = codeBase + (q > 0 ? 0 : this.planeBytes) + (i >> 3);
          this.codes[at] = (this.codes[at] as number) | (1 << (i & 7));
        }
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
    this.codes.fill(0, slot * this.codeBytes, (slot + 1) * this.codeBytes);
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
    if (query === this.scanned) {
      if (slot < this.scannedSlots) return this.out[slot] as number;
      const at = this.rescoredSlots ? lowerBound(this.rescoredSlots, slot) : -1;
      if (at >= 0 && this.rescoredSlots?.[at] === slot) return this.rescoredScores?.[at] as number;
    }
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
    if (this.codeBytes > 0 && this.prefilter.minVectors > 0 && this.count >= this.prefilter.minVectors) {
      const found = this.nearestPrefiltered(query, k, accept, options, slots);
      if (found) return found;
    }
    this.scoreAll(query, slots);
    this.scanned = query;
    this.scannedSlots = slots;
    this.rescoredSlots = undefined;
    this.rescoredScores = undefined;
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

  /**
   * The prefilter (see the class comment): Hamming distances of every row's sign code in one SIMD call
   * with a histogram of them, the smallest cutoff that keeps `candidates` rows, then the int8 score of
   * those rows, computed as vector-dots.wat does (same float32 rounding). Undefined when the full scan must
   * run instead: the cutoff keeps every row, or fewer than k rescored rows pass.
   */
  private nearestPrefiltered(
    query: Float32Array,
    k: number,
    accept: (slot: number) => boolean,
    options: NearestOptions,
    slots: number,
  ): { slot: number; score: number }[] | undefined {
    const { probe, queryInv } = this.quantizeQuery(query);
    const queryCode = new Uint8Array(this.memory.buffer, this.queryCodeOffset, this.codeBytes).fill(0);
    for (let i = 0; i < this.dim; i++) {
      const q = probe[i] as number;
      if (q === 0) continue;
      const at = (q > 0 ? 0 : this.planeBytes) + (i >> 3);
      queryCode[at] = (queryCode[at] as number) | (1 << (i & 7));
    }
    const hist = new Uint32Array(this.memory.buffer, this.histOffset, this.histLength).fill(0);
    this.dots.hamming(
      this.codesOffset,
      this.queryCodeOffset,
      this.planeBytes,
      slots,
      this.invNormsOffset,
      this.distOffset,
      this.histOffset,
    );
    const wanted = Math.max(k, this.prefilter.candidates);
    let cutoff = 0;
    let kept = hist[0] as number;
    while (kept < wanted && cutoff < this.histLength - 1) kept += hist[++cutoff] as number;
    if (kept >= this.count) return undefined;
    // Rows nearer than the cutoff, then rows at the cutoff (in slot order) until `wanted` are kept.
    const ties = wanted - (kept - (hist[cutoff] as number));
    const n = this.dots.gather(this.distOffset, slots, cutoff, this.outOffset, ties);
    const list = new Int32Array(this.memory.buffer, this.outOffset, n).slice();
    this.dots.dotsI8Slots(this.dataOffset, 0, this.stride, this.outOffset, n, this.invNormsOffset, queryInv);
    const scores = new Float32Array(this.memory.buffer, this.outOffset, n).slice();
    const top = new TopK(k);
    let bar = options.floor;
    for (let c = 0; c < n; c++) {
      const score = scores[c] as number;
      if (score <= bar || !accept(list[c] as number)) continue;
      top.push(list[c] as number, score);
      bar = Math.max(options.floor, top.threshold);
    }
    const found = top.sorted();
    if (found.length < k) return undefined;
    this.scanned = query;
    this.scannedSlots = 0;
    this.rescoredSlots = list;
    this.rescoredScores = scores;
    return found;
  }

  /** The query quantized like the rows and widened to int16 in the query area (see vector-dots.wat). */
  private quantizeQuery(query: Float32Array): { probe: Int16Array; queryInv: number } {
    const probe = new Int16Array(this.memory.buffer, 0, this.stride);
    const scale = quantizationScale(query);
    let sum = 0;
    for (let i = 0; i < this.dim; i++) {
      const q = Math.round((query[i] as number) * scale);
      probe[i] = q;
      sum += q * q;
    }
    probe.fill(0, this.dim);
    return { probe, queryInv: sum > 0 ? 1 / Math.sqrt(sum) : 0 };
  }

  /** Fills `out[0..slots)` with the cosine of `query` (unit length) and each slot. */
  private scoreAll(query: Float32Array, slots: number): void {
    if (this.data instanceof Int8Array) {
      const { queryInv } = this.quantizeQuery(query);
      this.dots.dotsI8(this.dataOffset, 0, this.stride, slots, this.invNormsOffset, this.outOffset, queryInv);
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
}

/** The first index of a sorted array whose value is not below `value` (the length when none). */
function lowerBound(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
