/**
 * Normalized embeddings of one workspace packed in one typed array, slot by slot, so a query is one
 * linear scan of dot products (cosine, since vectors are unit length). Slots without a vector (not yet
 * embedded by a slow embedder) are skipped. The store is exact; an ANN index can sit on top of it for very
 * large workspaces without changing callers.
 */
export class VectorStore {
  private data: Float32Array;
  private present: Uint8Array;
  private capacity: number;
  private count = 0;

  constructor(
    readonly dim: number,
    initialCapacity = 1024,
  ) {
    this.capacity = initialCapacity;
    this.data = new Float32Array(this.capacity * dim);
    this.present = new Uint8Array(this.capacity);
  }

  private grow(slot: number): void {
    if (slot < this.capacity) return;
    let capacity = this.capacity;
    while (capacity <= slot) capacity *= 2;
    const data = new Float32Array(capacity * this.dim);
    data.set(this.data);
    const present = new Uint8Array(capacity);
    present.set(this.present);
    this.data = data;
    this.present = present;
    this.capacity = capacity;
  }

  set(slot: number, vector: Float32Array): void {
    if (vector.length !== this.dim) return;
    this.grow(slot);
    this.data.set(vector, slot * this.dim);
    if (!this.present[slot]) this.count++;
    this.present[slot] = 1;
  }

  has(slot: number): boolean {
    return slot < this.capacity && this.present[slot] === 1;
  }

  get(slot: number): Float32Array | undefined {
    if (!this.has(slot)) return undefined;
    return this.data.slice(slot * this.dim, (slot + 1) * this.dim);
  }

  /** Cosine of `query` with the vector at `slot`, or null when the slot has none. */
  cosineAt(slot: number, query: Float32Array): number | null {
    if (!this.has(slot)) return null;
    const base = slot * this.dim;
    let dot = 0;
    for (let i = 0; i < this.dim; i++) dot += (query[i] as number) * (this.data[base + i] as number);
    return dot;
  }

  remove(slot: number): void {
    if (!this.has(slot)) return;
    this.present[slot] = 0;
    this.count--;
  }

  get size(): number {
    return this.count;
  }

  /** Cosine of `query` with every accepted slot that has a vector; calls `visit(slot, cosine)`. */
  scan(
    query: Float32Array,
    slots: number,
    accept: (slot: number) => boolean,
    visit: (slot: number, cosine: number) => void,
  ): void {
    const dim = this.dim;
    const data = this.data;
    const present = this.present;
    const limit = Math.min(slots, this.capacity);
    for (let slot = 0; slot < limit; slot++) {
      if (present[slot] !== 1 || !accept(slot)) continue;
      let dot = 0;
      const base = slot * dim;
      for (let i = 0; i < dim; i++) dot += (query[i] as number) * (data[base + i] as number);
      visit(slot, dot);
    }
  }

  bytes(): number {
    return this.data.byteLength + this.present.byteLength;
  }
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

export function bufferToVector(buffer: Buffer): Float32Array {
  const copy = new Float32Array(buffer.byteLength / 4);
  new Uint8Array(copy.buffer).set(buffer);
  return copy;
}
