import zlib from 'node:zlib';
import { KIND_CODE, type DocKind, type SearchDoc } from './search-doc.js';
import { nextTurn } from './slices.js';
import type { VectorPrecision } from './vector-store.js';
import type { WorkspaceIndexState } from './workspace-index.js';

/**
 * The binary format of a persisted workspace index (snapshot-store.ts keeps it in Redis). A snapshot is
 * one logical byte stream cut into chunks of at most MAX_CHUNK_BYTES. Each chunk starts with a 24-byte
 * frame: magic "MNSX", its number, its payload length, the payload's CRC-32 and the generation's 8 bytes,
 * so a chunk of another generation, a truncated one or a flipped byte is caught before anything is read.
 *
 * The stream (little endian; typed arrays as their raw bytes):
 *   u32 header length, header JSON (identity, position, counts, pinned ids)
 *   kinds u8 × slots | lengths f32 × slots | free i32 × n | dead i32 × n
 *   u32 length, JSON array of the terms | sizes i32 × terms | dfs i32 × terms | slots i32 × P | tfs u16 × P
 *   vector inverse norms f32 × rows | vector rows (int8 or f32 lanes) × rows
 *   when partitioned (vector-partitions.ts): centroids f32 × partitions × dim | partition i32 × rows
 *   docBlocks × (u32 length, JSON array [slot, ts, text, record, slot, ts, text, record, ...])
 * A document's text is written as 0 when it is the record's `content` (episodes, working entries: most
 * documents), so it is not stored twice. Records stay JSON, parsed one block of DOC_BLOCK documents per
 * JSON.parse call.
 *
 * Rule: anything that changes what this writes or what the index derives from it (the tokenizer, the
 * kind codes, the layout) bumps SNAPSHOT_FORMAT; a snapshot of another format, tokenizer, dimension,
 * precision or embedder is ignored (`compatible`).
 */
export const SNAPSHOT_FORMAT = 2; // 2: vector partitions
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const FRAME_BYTES = 24;
const MAGIC = 0x58534e4d; // "MNSX" read as a little-endian u32
const DOC_BLOCK = 5000;

/** What a snapshot must match to be usable by an instance. */
export interface SnapshotIdentity {
  format: number;
  tokenizer: number;
  dim: number;
  precision: VectorPrecision;
  embedder: string;
}

export function compatible(a: SnapshotIdentity, b: SnapshotIdentity): boolean {
  return (
    a.format === b.format &&
    a.tokenizer === b.tokenizer &&
    a.dim === b.dim &&
    a.precision === b.precision &&
    a.embedder === b.embedder
  );
}

interface Header extends SnapshotIdentity {
  lastEventId: string;
  entriesAdded: number;
  slots: number;
  free: number;
  dead: number;
  postings: number;
  liveDocs: number;
  totalLength: number;
  rows: number;
  vectorCount: number;
  vectorBytes: number;
  /** Vector partitions (0 = none) and how many vectors their centroids were trained on. */
  partitions: number;
  partitionsTrainedOn: number;
  docBlocks: number;
  pinned: string[];
}

export class SnapshotCorrupt extends Error {
  override name = 'SnapshotCorrupt';
}

const crc32: ((data: Uint8Array) => number) | undefined = (
  zlib as unknown as { crc32?: (data: Uint8Array) => number }
).crc32;
const checksum = (data: Uint8Array): number => (crc32 ? crc32(data) >>> 0 : 0);

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Collects the stream into framed chunks; `take()` hands over the chunks completed so far. */
class ChunkWriter {
  private buffer = Buffer.allocUnsafe(MAX_CHUNK_BYTES);
  private used = FRAME_BYTES;
  private done: Buffer[] = [];
  private next = 0;
  bytes = 0;

  constructor(private readonly gen: Buffer) {}

  write(data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      const n = Math.min(data.length - at, MAX_CHUNK_BYTES - this.used);
      this.buffer.set(data.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === MAX_CHUNK_BYTES) this.seal();
    }
  }

  u32(value: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(value);
    this.write(b);
  }

  /** A length-prefixed UTF-8 string. */
  text(value: string): void {
    const b = Buffer.from(value, 'utf8');
    this.u32(b.length);
    this.write(b);
  }

  private seal(): void {
    const chunk = this.buffer.subarray(0, this.used);
    const payload = chunk.subarray(FRAME_BYTES);
    chunk.writeUInt32LE(MAGIC, 0);
    chunk.writeUInt32LE(this.next, 4);
    chunk.writeUInt32LE(payload.length, 8);
    chunk.writeUInt32LE(checksum(payload), 12);
    this.gen.copy(chunk, 16, 0, 8);
    this.done.push(chunk);
    this.bytes += chunk.length;
    this.next++;
    this.buffer = Buffer.allocUnsafe(MAX_CHUNK_BYTES);
    this.used = FRAME_BYTES;
  }

  take(): Buffer[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  finish(): Buffer[] {
    if (this.used > FRAME_BYTES) this.seal();
    return this.take();
  }
}

/** The generation id's 8 bytes (a generation is 16 hex digits). */
export function genBytes(gen: string): Buffer {
  if (!/^[0-9a-f]{16}$/.test(gen)) throw new Error(`bad snapshot generation ${gen}`);
  return Buffer.from(gen, 'hex');
}

const contentOf = (record: Record<string, unknown>): string =>
  typeof record.content === 'string' ? record.content : '';

/**
 * Encodes a captured state, yielding each chunk as it is complete (so a writer can store it and let it
 * go). Serializing yields to the event loop between document blocks.
 */
export async function* encodeSnapshot(
  state: WorkspaceIndexState,
  identity: SnapshotIdentity,
  gen: string,
): AsyncGenerator<Buffer> {
  const out = new ChunkWriter(genBytes(gen));
  const slots = state.docs.length;
  const docBlocks = Math.ceil(slots / DOC_BLOCK);
  const header: Header = {
    ...identity,
    lastEventId: state.lastEventId,
    entriesAdded: state.entriesAdded,
    slots,
    free: state.free.length,
    dead: state.dead.length,
    postings: state.bm25.slots.length,
    liveDocs: state.bm25.liveDocs,
    totalLength: state.bm25.totalLength,
    rows: state.vectors.rows,
    vectorCount: state.vectors.count,
    vectorBytes: state.vectors.data.byteLength,
    partitions: state.vectors.partitions?.count ?? 0,
    partitionsTrainedOn: state.vectors.partitions?.trainedOn ?? 0,
    docBlocks,
    pinned: state.pinned,
  };
  out.text(JSON.stringify(header));
  out.write(state.kinds);
  out.write(bytesOf(state.bm25.lengths));
  out.write(bytesOf(Int32Array.from(state.free)));
  out.write(bytesOf(Int32Array.from(state.dead)));
  out.text(JSON.stringify(state.bm25.terms));
  out.write(bytesOf(state.bm25.sizes));
  out.write(bytesOf(state.bm25.dfs));
  yield* out.take();
  // The large arrays go a chunk's worth at a time, each sealed chunk handed over before the next is
  // copied: one write of 128 MB of rows kept the event loop for ~0.2 s at 1M.
  const large = [state.bm25.slots, state.bm25.tfs, state.vectors.invNorms, state.vectors.data];
  if (state.vectors.partitions)
    large.push(state.vectors.partitions.centroids, state.vectors.partitions.partitionOf);
  for (const array of large) {
    const bytes = bytesOf(array);
    for (let at = 0; at < bytes.length; at += MAX_CHUNK_BYTES) {
      out.write(bytes.subarray(at, at + MAX_CHUNK_BYTES));
      yield* out.take();
    }
  }
  for (let block = 0; block < docBlocks; block++) {
    const flat: unknown[] = [];
    const end = Math.min(slots, (block + 1) * DOC_BLOCK);
    for (let slot = block * DOC_BLOCK; slot < end; slot++) {
      const doc = state.docs[slot];
      if (!doc) continue;
      flat.push(slot, doc.ts, doc.text === contentOf(doc.record) ? 0 : doc.text, doc.record);
    }
    out.text(JSON.stringify(flat));
    yield* out.take();
    await nextTurn();
  }
  yield* out.finish();
}

/** Reads the logical stream across chunk boundaries; every read is bounds-checked. */
class ChunkReader {
  private chunk = 0;
  private at = FRAME_BYTES;
  /** Payload bytes not read yet: no section may claim more (a bad count must not allocate gigabytes). */
  private remaining = 0;

  constructor(private readonly chunks: Buffer[]) {
    for (const chunk of chunks) this.remaining += chunk.length - FRAME_BYTES;
  }

  /** Copies the next `target.length` bytes into `target`. */
  read(target: Uint8Array): void {
    if (target.length > this.remaining) throw new SnapshotCorrupt('a section runs past the end');
    this.remaining -= target.length;
    let filled = 0;
    while (filled < target.length) {
      const chunk = this.chunks[this.chunk];
      if (!chunk) throw new SnapshotCorrupt('the snapshot ends early');
      const n = Math.min(target.length - filled, chunk.length - this.at);
      target.set(chunk.subarray(this.at, this.at + n), filled);
      filled += n;
      this.at += n;
      if (this.at === chunk.length) {
        this.chunks[this.chunk] = Buffer.alloc(0); // let it go once read
        this.chunk++;
        this.at = FRAME_BYTES;
      }
    }
  }

  u32(): number {
    const b = Buffer.allocUnsafe(4);
    this.read(b);
    return b.readUInt32LE(0);
  }

  text(): string {
    const length = this.u32();
    if (length > this.remaining) throw new SnapshotCorrupt('a text section runs past the end');
    const b = Buffer.allocUnsafe(length);
    this.read(b);
    return b.toString('utf8');
  }

  typed<T extends ArrayBufferView>(make: (n: number) => T, n: number, bytesPer: number): T {
    if (!Number.isInteger(n) || n * bytesPer > this.remaining)
      throw new SnapshotCorrupt('a section runs past the end');
    const array = make(n);
    this.read(bytesOf(array));
    return array;
  }

  get finished(): boolean {
    return this.chunk >= this.chunks.length;
  }
}

/** Checks every chunk's frame (number, length, checksum, generation); throws SnapshotCorrupt. */
export function checkFrames(chunks: (Buffer | null)[], gen: string): Buffer[] {
  const expected = genBytes(gen);
  return chunks.map((chunk, i) => {
    if (!chunk) throw new SnapshotCorrupt(`chunk ${i} is missing`);
    if (chunk.length < FRAME_BYTES || chunk.readUInt32LE(0) !== MAGIC)
      throw new SnapshotCorrupt(`chunk ${i} is not a snapshot chunk`);
    const payload = chunk.subarray(FRAME_BYTES);
    if (chunk.readUInt32LE(4) !== i || chunk.readUInt32LE(8) !== payload.length)
      throw new SnapshotCorrupt(`chunk ${i} is out of place or truncated`);
    if (!chunk.subarray(16, 24).equals(expected))
      throw new SnapshotCorrupt(`chunk ${i} belongs to another generation`);
    if (crc32 && chunk.readUInt32LE(12) !== checksum(payload))
      throw new SnapshotCorrupt(`chunk ${i} fails its checksum`);
    return chunk;
  });
}

const isCount = (n: unknown, max = 2 ** 31 - 1): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max;

function parseHeader(json: string, expected: SnapshotIdentity): Header {
  let header: Header;
  try {
    header = JSON.parse(json) as Header;
  } catch {
    throw new SnapshotCorrupt('the header is not JSON');
  }
  if (typeof header !== 'object' || header === null) throw new SnapshotCorrupt('the header is not an object');
  if (!compatible(header, expected))
    throw new SnapshotCorrupt('the snapshot is of another format or embedder');
  const counts = [
    header.slots,
    header.free,
    header.dead,
    header.postings,
    header.liveDocs,
    header.rows,
    header.vectorCount,
    header.vectorBytes,
    header.partitions,
    header.partitionsTrainedOn,
    header.docBlocks,
    header.entriesAdded,
  ];
  if (!counts.every((n) => isCount(n, Number.MAX_SAFE_INTEGER)) || !isCount(header.slots))
    throw new SnapshotCorrupt('the header holds a bad count');
  if (typeof header.totalLength !== 'number' || !Number.isFinite(header.totalLength))
    throw new SnapshotCorrupt('the header holds a bad total length');
  if (typeof header.lastEventId !== 'string' || !/^\d+-\d+$/.test(header.lastEventId))
    throw new SnapshotCorrupt('the header holds a bad stream position');
  if (!Array.isArray(header.pinned) || !header.pinned.every((id) => typeof id === 'string'))
    throw new SnapshotCorrupt('the header holds bad pinned ids');
  if (header.docBlocks !== Math.ceil(header.slots / DOC_BLOCK))
    throw new SnapshotCorrupt('the header disagrees with itself');
  return header;
}

/**
 * Decodes checked chunks (checkFrames) into a state WorkspaceIndex.restore can check and use; throws
 * SnapshotCorrupt on anything malformed. Yields to the event loop between document blocks.
 */
export async function decodeSnapshot(
  chunks: Buffer[],
  expected: SnapshotIdentity,
): Promise<WorkspaceIndexState> {
  const input = new ChunkReader(chunks);
  const header = parseHeader(input.text(), expected);
  const { slots } = header;
  const kinds = input.typed((n) => new Uint8Array(n), slots, 1);
  const lengths = input.typed((n) => new Float32Array(n), slots, 4);
  const free = Array.from(input.typed((n) => new Int32Array(n), header.free, 4));
  const dead = Array.from(input.typed((n) => new Int32Array(n), header.dead, 4));
  let terms: unknown;
  try {
    terms = JSON.parse(input.text());
  } catch {
    throw new SnapshotCorrupt('the term table is not JSON');
  }
  if (!Array.isArray(terms) || !terms.every((t) => typeof t === 'string'))
    throw new SnapshotCorrupt('the term table is not a list of terms');
  const sizes = input.typed((n) => new Int32Array(n), terms.length, 4);
  const dfs = input.typed((n) => new Int32Array(n), terms.length, 4);
  const postingSlots = input.typed((n) => new Int32Array(n), header.postings, 4);
  const tfs = input.typed((n) => new Uint16Array(n), header.postings, 2);
  const invNorms = input.typed((n) => new Float32Array(n), header.rows, 4);
  const data =
    header.precision === 'int8'
      ? input.typed((n) => new Int8Array(n), header.vectorBytes, 1)
      : input.typed((n) => new Float32Array(n), header.vectorBytes / 4, 4);
  const partitions =
    header.partitions > 0
      ? {
          count: header.partitions,
          trainedOn: header.partitionsTrainedOn,
          centroids: input.typed((n) => new Float32Array(n), header.partitions * header.dim, 4),
          partitionOf: input.typed((n) => new Int32Array(n), header.rows, 4),
        }
      : undefined;
  await nextTurn();
  const docs = new Array<SearchDoc | undefined>(slots);
  for (let block = 0; block < header.docBlocks; block++) {
    readDocBlock(input.text(), docs, kinds, block * DOC_BLOCK, Math.min(slots, (block + 1) * DOC_BLOCK));
    await nextTurn();
  }
  if (!input.finished) throw new SnapshotCorrupt('bytes left over after the last section');
  return {
    docs,
    kinds,
    free,
    dead,
    pinned: header.pinned,
    bm25: {
      terms,
      sizes,
      dfs,
      slots: postingSlots,
      tfs,
      lengths,
      liveDocs: header.liveDocs,
      totalLength: header.totalLength,
    },
    vectors: {
      rows: header.rows,
      count: header.vectorCount,
      invNorms,
      data,
      ...(partitions ? { partitions } : {}),
    },
    lastEventId: header.lastEventId,
    entriesAdded: header.entriesAdded,
  };
}

const KIND_OF_CODE: (DocKind | undefined)[] = [];
for (const [kind, code] of Object.entries(KIND_CODE)) KIND_OF_CODE[code] = kind as DocKind;

/** One block of documents: each in its block's slot range, of its slot's kind, and every live slot filled. */
function readDocBlock(
  json: string,
  docs: (SearchDoc | undefined)[],
  kinds: Uint8Array,
  from: number,
  to: number,
): void {
  let flat: unknown;
  try {
    flat = JSON.parse(json);
  } catch {
    throw new SnapshotCorrupt('a document block is not JSON');
  }
  if (!Array.isArray(flat) || flat.length % 4 !== 0)
    throw new SnapshotCorrupt('a document block is malformed');
  for (let i = 0; i < flat.length; i += 4) {
    const slot: unknown = flat[i];
    const ts: unknown = flat[i + 1];
    const text: unknown = flat[i + 2];
    const record: unknown = flat[i + 3];
    if (!isCount(slot) || slot < from || slot >= to || docs[slot] !== undefined)
      throw new SnapshotCorrupt('a document names a bad slot');
    if (typeof ts !== 'number' || (text !== 0 && typeof text !== 'string'))
      throw new SnapshotCorrupt('a document has a bad timestamp or text');
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      throw new SnapshotCorrupt('a document has no record');
    const fields = record as Record<string, unknown>;
    const kind = KIND_OF_CODE[kinds[slot] as number];
    if (typeof fields.id !== 'string' || !kind || fields.layer !== kind)
      throw new SnapshotCorrupt('a document disagrees with its slot');
    docs[slot] = { id: fields.id, kind, text: text === 0 ? contentOf(fields) : text, ts, record: fields };
  }
  for (let slot = from; slot < to; slot++)
    if ((kinds[slot] !== 0) !== (docs[slot] !== undefined))
      throw new SnapshotCorrupt('a live slot has no document');
}
