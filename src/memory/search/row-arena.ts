import { VECTOR_DOTS_WASM_BASE64 } from './simd/vector-dots.wasm.js';

/**
 * Rows of vectors packed in a WebAssembly memory, scored by the SIMD kernels of simd/vector-dots.wat. The
 * memory is laid out query | scores | inverse norms | rows, each indexed by row number, so scoring any
 * run of consecutive rows is one kernel call writing their scores at the same row numbers. Rows are int8
 * (each vector scaled so its largest component is ±127: a quarter of the memory, cosine within ~0.01) or
 * float32. An empty row has inverse norm 0 and scores 0.
 *
 * The arena knows nothing of documents: the vector store decides which row holds which slot (row = slot
 * when flat; rows grouped by partition otherwise, see vector-partitions.ts).
 */
export type VectorPrecision = 'float32' | 'int8';

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
export const MAX_DIM = 4096;

const roundUp = (value: number, multiple: number): number => Math.ceil(value / multiple) * multiple;

export class RowArena {
  /** Lanes per row: the dimension padded to what the SIMD loop steps by. */
  readonly lanes: number;
  private readonly rowBytes: number;
  /** The query area at the start of the memory: one float32 query, or the widened int16 one. */
  private readonly queryBytes: number;
  capacity = 0;
  private memory!: WebAssembly.Memory;
  private dots!: DotsExports;
  private outOffset = 0;
  private invNormsOffset = 0;
  private dataOffset = 0;
  /** Scores of the last scored rows, by row. */
  scores!: Float32Array;
  /** 1 / norm of each row's vector; 0 = empty row. */
  invNorms!: Float32Array;
  private data!: Int8Array | Float32Array;
  /** 1 / norm of the prepared query (int8: of its quantized form). */
  private queryInv = 0;

  constructor(
    readonly dim: number,
    readonly precision: VectorPrecision,
    capacity: number,
  ) {
    if (dim > MAX_DIM) throw new Error(`vectors of ${dim} dimensions are not supported (at most 4096)`);
    this.lanes = precision === 'int8' ? roundUp(dim, 16) : roundUp(dim, 4);
    this.rowBytes = precision === 'int8' ? this.lanes : this.lanes * 4;
    this.queryBytes = roundUp(this.lanes * 4, 16);
    this.allocate(Math.max(1, capacity));
  }

  /** Grows to hold at least `rows` rows (doubling), keeping what is stored. */
  ensure(rows: number): void {
    if (rows <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < rows) capacity *= 2;
    this.allocate(capacity);
  }

  private allocate(capacity: number): void {
    const outOffset = this.queryBytes;
    const invNormsOffset = outOffset + capacity * 4;
    const dataOffset = roundUp(invNormsOffset + capacity * 4, 16);
    const bytes = dataOffset + capacity * this.rowBytes;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    const invNorms = new Float32Array(memory.buffer, invNormsOffset, capacity);
    const data =
      this.precision === 'int8'
        ? new Int8Array(memory.buffer, dataOffset, capacity * this.lanes)
        : new Float32Array(memory.buffer, dataOffset, capacity * this.lanes);
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
    this.scores = new Float32Array(memory.buffer, outOffset, capacity);
    this.invNorms = invNorms;
    this.data = data;
  }

  /** Stores a vector in `row` (which must exist); returns whether it is non-zero. */
  write(row: number, vector: Float32Array): boolean {
    const base = row * this.lanes;
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
    this.invNorms[row] = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    return sum > 0;
  }

  /** A view of `count` rows from `first`, as stored (valid until the arena grows). */
  rows(first: number, count: number): Int8Array | Float32Array {
    return this.data.subarray(first * this.lanes, (first + count) * this.lanes);
  }

  /** Zeroed room for `count` rows of this arena's type and lanes, outside it. */
  emptyRows(count: number): Int8Array | Float32Array {
    return this.precision === 'int8'
      ? new Int8Array(count * this.lanes)
      : new Float32Array(count * this.lanes);
  }

  /** Copies row `from` over row `to` (as stored: no quantization again). */
  copy(from: number, to: number): void {
    this.data.copyWithin(to * this.lanes, from * this.lanes, (from + 1) * this.lanes);
    this.invNorms[to] = this.invNorms[from] as number;
  }

  clear(row: number): void {
    this.data.fill(0, row * this.lanes, (row + 1) * this.lanes);
    this.invNorms[row] = 0;
  }

  /** The row's vector scaled to unit length, into `out`. */
  readUnit(row: number, out: Float32Array): void {
    const base = row * this.lanes;
    const inv = this.invNorms[row] as number;
    for (let i = 0; i < this.dim; i++) out[i] = (this.data[base + i] as number) * inv;
  }

  /** Cosine of a unit-length query with one row, in JavaScript (for a few rows; see `score`). */
  cosine(row: number, query: Float32Array): number {
    const base = row * this.lanes;
    const data = this.data;
    let dot = 0;
    for (let i = 0; i < this.dim; i++) dot += (query[i] as number) * (data[base + i] as number);
    return dot * (this.invNorms[row] as number);
  }

  /** Puts a unit-length query in the query area for the following `score` calls. */
  prepare(query: Float32Array): void {
    if (this.data instanceof Int8Array) {
      // The query is quantized like the rows, then stored widened to int16 (see vector-dots.wat).
      const probe = new Int16Array(this.memory.buffer, 0, this.lanes);
      const scale = quantizationScale(query);
      let sum = 0;
      for (let i = 0; i < this.dim; i++) {
        const q = Math.round((query[i] as number) * scale);
        probe[i] = q;
        sum += q * q;
      }
      probe.fill(0, this.dim);
      this.queryInv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    } else {
      const probe = new Float32Array(this.memory.buffer, 0, this.lanes);
      probe.set(query);
      probe.fill(0, this.dim);
    }
  }

  /** Fills `scores[first..first+count)` with the cosine of the prepared query and those rows. */
  score(first: number, count: number): void {
    if (count <= 0) return;
    const data = this.dataOffset + first * this.rowBytes;
    const out = this.outOffset + first * 4;
    if (this.precision === 'float32') {
      // Embedders return unit vectors (normalize), so the dot product is the cosine.
      this.dots.dotsF32(data, 0, this.lanes, count, out);
      return;
    }
    const invNorms = this.invNormsOffset + first * 4;
    if (this.lanes === 128) this.dots.dotsI8x128(data, 0, count, invNorms, out, this.queryInv);
    else this.dots.dotsI8(data, 0, this.lanes, count, invNorms, out, this.queryInv);
  }

  bytes(): number {
    return this.memory.buffer.byteLength;
  }
}

/** Scale that maps the largest component to ±127. */
function quantizationScale(vector: Float32Array): number {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i] as number));
  return max > 0 ? 127 / max : 0;
}
