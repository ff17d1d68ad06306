import { Bm25Index, type Bm25State, type TermWeight } from './bm25.js';
import { DOC_KINDS, KIND_CODE, type DocKind, type SearchDoc } from './search-doc.js';
import { tokenize } from './tokenizer.js';
import { SlotOwners, type OwnerFilter } from './slot-owners.js';
import { TopK } from './top-k.js';
import {
  NO_PARTITIONS,
  VectorStore,
  type PartitionPolicy,
  type VectorPrecision,
  type VectorStoreState,
} from './vector-store.js';
import type { Tenant } from '../../tenant.js';

/**
 * The in-memory search index of one workspace: documents by slot, a BM25 inverted index and a packed
 * vector store. It is a cache of Redis, brought up to date from the workspace stream before every query
 * (see index-manager.ts); it never writes to Redis.
 *
 * Removal tombstones a slot; once enough slots are dead, postings are compacted (dead entries filtered out,
 * no re-tokenizing) and the slots are reused.
 */
export interface SearchRequest {
  tokens: string[];
  vector?: Float32Array | undefined;
  kinds: readonly DocKind[];
  /**
   * Only documents of this user and/or agent (their records' `user_id`, `agent_id`): tested from an
   * interned copy of those fields, without reading records (slot-owners.ts).
   */
  owner?: OwnerFilter;
  /** Further filter (scope, status, expiry). */
  accept?: (doc: SearchDoc) => boolean;
  /**
   * Kinds whose documents `accept` must see (default: every kind); documents of other kinds pass without
   * it, so a filter that concerns some kinds only does not read the record of every matching document
   * (bench/profile-search.ts, 100k memories: a hybrid query with recall's filter 6.8 ms, 2.4 ms by kind).
   */
  acceptKinds?: readonly DocKind[];
  /** Cosine at or below this is not a vector candidate. */
  vectorFloor: number;
  /** Candidates kept per leg (best first). */
  perLeg: number;
  /** Names the query mentions (see entities.ts); each candidate reports whether it mentions one. */
  entities?: string[];
}

export interface Candidate {
  doc: SearchDoc;
  /** Raw BM25 score (0 when the document matched no query term). */
  bm25: number;
  /** BM25 relative to the query's full weight: 1 ≈ every query term present once. */
  bm25Norm: number;
  /** Cosine with the query vector, or null when there is no query vector or no document vector. */
  cosine: number | null;
  /** 1-based rank in each leg, or null when not a candidate of that leg. */
  bm25Rank: number | null;
  vectorRank: number | null;
  /** Whether the document mentions one of the query's names; true when the query names none. */
  mentionsEntity: boolean;
}

export interface SearchResult {
  candidates: Candidate[];
  /** Documents that matched at least one leg before the per-leg cut. */
  matched: number;
}

const COMPACT_MIN_DEAD = 512;

/**
 * Everything an index is made of, as a persisted snapshot keeps it (index-snapshot.ts): documents by slot
 * (undefined = a free or dead slot), each slot's kind code, the slots waiting for reuse, the pinned ids, the
 * BM25 and vector states, and the stream position they reflect. Slot numbers are kept as they were, so a
 * restored index answers exactly like the one captured (same postings order, same ties).
 */
export interface WorkspaceIndexState {
  docs: (SearchDoc | undefined)[];
  kinds: Uint8Array;
  free: number[];
  dead: number[];
  pinned: string[];
  bm25: Bm25State;
  vectors: VectorStoreState;
  lastEventId: string;
  entriesAdded: number;
}

export class WorkspaceIndex {
  private docs: (SearchDoc | undefined)[] = [];
  private readonly slotOf = new Map<string, number>();
  private kinds = new Uint8Array(64);
  private readonly free: number[] = [];
  /** Ids of documents whose record says `pinned: true` (engrams): found without a scan. */
  private readonly pinnedIds = new Set<string>();
  private dead: number[] = [];
  private readonly owners = new SlotOwners();
  private bm25 = new Bm25Index();
  readonly vectors: VectorStore;
  private scores = new Float64Array(64);
  private approxBytes = 0;

  /** Documents removed or replaced so far (a snapshot taken before holds their old content). */
  removals = 0;
  /** Stream position this index reflects (see index-manager.ts). */
  lastEventId = '0-0';
  entriesAdded = 0;
  lastUsed = Date.now();

  constructor(
    readonly workspace: Tenant,
    readonly dim: number,
    precision: VectorPrecision = 'int8',
    partitions: PartitionPolicy = NO_PARTITIONS,
    vectors?: VectorStore,
  ) {
    // Small first: a workspace of 100 memories holds one 64 KB page of vectors, not 1,024 slots' worth.
    this.vectors = vectors ?? new VectorStore(dim, precision, 64, partitions);
  }

  get size(): number {
    return this.slotOf.size;
  }

  get(id: string): SearchDoc | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.docs[slot];
  }

  /** Adds a document or replaces the one with the same id (its vector is kept unless the text changed). */
  upsert(doc: SearchDoc): void {
    const existing = this.slotOf.get(doc.id);
    if (existing !== undefined) {
      const old = this.docs[existing] as SearchDoc;
      if (old.text === doc.text && old.kind === doc.kind) {
        this.docs[existing] = doc;
        this.owners.set(existing, doc.record);
        if (doc.record.pinned === true) this.pinnedIds.add(doc.id);
        else this.pinnedIds.delete(doc.id);
        return;
      }
      this.remove(doc.id);
    }
    const slot = this.free.pop() ?? this.docs.length;
    if (slot >= this.kinds.length) {
      const kinds = new Uint8Array(Math.max(slot + 1, this.kinds.length * 2));
      kinds.set(this.kinds);
      this.kinds = kinds;
      this.scores = new Float64Array(kinds.length);
    }
    this.docs[slot] = doc;
    this.kinds[slot] = KIND_CODE[doc.kind];
    this.owners.set(slot, doc.record);
    this.slotOf.set(doc.id, slot);
    if (doc.record.pinned === true) this.pinnedIds.add(doc.id);
    this.bm25.add(slot, tokenize(doc.text));
    this.approxBytes += docBytes(doc);
  }

  remove(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.approxBytes -= docBytes(this.docs[slot] as SearchDoc);
    this.removals++;
    this.slotOf.delete(id);
    this.pinnedIds.delete(id);
    this.docs[slot] = undefined;
    this.kinds[slot] = 0;
    this.owners.clear(slot);
    this.bm25.remove(slot);
    this.vectors.remove(slot);
    this.dead.push(slot);
    if (this.dead.length >= COMPACT_MIN_DEAD && this.dead.length * 10 > this.slotOf.size) this.compact();
  }

  setVector(id: string, vector: Float32Array): void {
    const slot = this.slotOf.get(id);
    if (slot !== undefined) this.vectors.set(slot, vector);
  }

  hasVector(id: string): boolean {
    const slot = this.slotOf.get(id);
    return slot !== undefined && this.vectors.has(slot);
  }

  /** Filters dead slots out of the postings, then makes them reusable. */
  private compact(): void {
    this.bm25.compact((slot) => this.kinds[slot] !== 0);
    this.free.push(...this.dead);
    this.dead = [];
  }

  /** Query term weights (for callers that normalise scores). */
  weights(tokens: string[]): TermWeight[] {
    return this.bm25.weights(tokens);
  }

  search(request: SearchRequest): SearchResult {
    let mask = 0;
    for (const kind of request.kinds) mask |= 1 << KIND_CODE[kind];
    const kinds = this.kinds;
    const docs = this.docs;
    const accept = request.accept;
    let checked = 0;
    for (const kind of request.acceptKinds ?? DOC_KINDS) checked |= 1 << KIND_CODE[kind];
    const owned = request.owner ? this.owners.matcher(request.owner) : undefined;
    if (owned === null) return { candidates: [], matched: 0 }; // an owner no document has
    const acceptSlot = (slot: number): boolean => {
      const bit = 1 << (kinds[slot] as number);
      return (
        (bit & mask) !== 0 &&
        (!owned || owned(slot)) &&
        (!accept || (bit & checked) === 0 || accept(docs[slot] as SearchDoc))
      );
    };

    // BM25 leg: score every posting of the query terms, keep the best perLeg.
    const weights = this.bm25.weights(request.tokens);
    let ceiling = 0;
    for (const w of weights) ceiling += w.idf;
    const touched: number[] = [];
    const scores = this.scores;
    this.bm25.score(weights, (slot) => kinds[slot] !== 0, acceptSlot, scores, touched);
    const best = new TopK(request.perLeg);
    for (const slot of touched) best.push(slot, scores[slot] as number);
    const lexical = best.sorted();

    // Vector leg.
    const query = request.vector && request.vector.length === this.dim ? request.vector : undefined;
    const semantic = query
      ? this.vectors.nearest(query, request.perLeg, acceptSlot, { floor: request.vectorFloor })
      : [];

    const byslot = new Map<number, Candidate>();
    const entities = request.entities ?? [];
    const mentions = (slot: number): boolean =>
      entities.length === 0 || entities.some((entity) => this.bm25.hasTerm(slot, entity));
    const take = (list: { slot: number; score: number }[], leg: 'bm25' | 'vector'): void => {
      list.forEach(({ slot, score }, i) => {
        let candidate = byslot.get(slot);
        if (!candidate) {
          // A vector candidate may match lexically too, beyond the lexical leg's cut: keep its BM25 score.
          const bm25 = scores[slot] as number;
          candidate = {
            doc: docs[slot] as SearchDoc,
            bm25,
            bm25Norm: ceiling > 0 ? Math.min(1, bm25 / ceiling) : 0,
            cosine: query ? this.vectors.cosineAt(slot, query) : null,
            bm25Rank: null,
            vectorRank: null,
            mentionsEntity: mentions(slot),
          };
          byslot.set(slot, candidate);
        }
        if (leg === 'bm25') {
          candidate.bm25 = score;
          candidate.bm25Norm = ceiling > 0 ? Math.min(1, score / ceiling) : 0;
          candidate.bm25Rank = i + 1;
        } else {
          candidate.vectorRank = i + 1;
        }
      });
    };
    take(lexical, 'bm25');
    take(semantic, 'vector');
    let vectorOnly = 0;
    for (const c of byslot.values()) if (c.bm25 === 0) vectorOnly++;
    for (const slot of touched) scores[slot] = 0;
    return { candidates: [...byslot.values()], matched: touched.length + vectorOnly };
  }

  /** Documents whose record says `pinned: true`. */
  *pinned(): IterableIterator<SearchDoc> {
    for (const id of this.pinnedIds) {
      const doc = this.get(id);
      if (doc) yield doc;
    }
  }

  /** Every live document (for listings that do not need Redis). */
  *documents(kinds?: readonly DocKind[]): IterableIterator<SearchDoc> {
    for (const doc of this.docs) if (doc && (!kinds || kinds.includes(doc.kind))) yield doc;
  }

  /**
   * A copy of the index's state for a snapshot. Documents are shared, not copied (an upsert replaces a
   * slot's document, it never changes one); the typed arrays are copied. A generator: it yields between
   * slices of the postings, and the caller must not change the index until it returns.
   */
  *captureState(): Generator<undefined, WorkspaceIndexState> {
    const slots = this.docs.length;
    const vectors = yield* this.vectors.exportState();
    const bm25 = yield* this.bm25.exportState(slots);
    return {
      docs: this.docs.slice(),
      kinds: this.kinds.slice(0, slots),
      free: [...this.free],
      dead: [...this.dead],
      pinned: [...this.pinnedIds],
      bm25,
      vectors,
      lastEventId: this.lastEventId,
      entriesAdded: this.entriesAdded,
    };
  }

  /**
   * The index a captured state describes. Throws when the state does not hold together (a document whose
   * kind disagrees with its slot's, a duplicate id, a free slot that holds a document, ...): a snapshot is
   * checked as it is restored, never trusted.
   */
  static *restore(
    workspace: Tenant,
    dim: number,
    precision: VectorPrecision,
    state: WorkspaceIndexState,
    partitions: PartitionPolicy = NO_PARTITIONS,
  ): Generator<undefined, WorkspaceIndex> {
    const slots = state.docs.length;
    if (state.kinds.length !== slots) throw new Error('index snapshot: kinds do not cover the slots');
    const index = new WorkspaceIndex(
      workspace,
      dim,
      precision,
      partitions,
      VectorStore.fromState(dim, precision, state.vectors, partitions),
    );
    index.kinds = new Uint8Array(Math.max(64, slots));
    index.kinds.set(state.kinds);
    index.scores = new Float64Array(index.kinds.length);
    index.docs = state.docs;
    for (let slot = 0; slot < slots; slot++) {
      const doc = state.docs[slot];
      const code = state.kinds[slot] as number;
      if (!doc) {
        if (code !== 0) throw new Error('index snapshot: a slot has a kind but no document');
        continue;
      }
      if (KIND_CODE[doc.kind] !== code || index.slotOf.has(doc.id))
        throw new Error('index snapshot: a document disagrees with its slot or repeats an id');
      index.slotOf.set(doc.id, slot);
      index.owners.set(slot, doc.record);
      index.approxBytes += docBytes(doc);
    }
    const { rows, invNorms } = state.vectors;
    if (rows > slots) throw new Error('index snapshot: vectors beyond the slots');
    for (let slot = 0; slot < rows; slot++)
      if (invNorms[slot] !== 0 && state.kinds[slot] === 0)
        throw new Error('index snapshot: a vector without a document');
    for (const slot of [...state.free, ...state.dead]) {
      if (!Number.isInteger(slot) || slot < 0 || slot >= slots || state.kinds[slot] !== 0)
        throw new Error('index snapshot: a reusable slot is not free');
    }
    index.free.push(...state.free);
    index.dead = [...state.dead];
    for (const id of state.pinned) if (index.slotOf.has(id)) index.pinnedIds.add(id);
    index.bm25 = yield* Bm25Index.fromState(state.bm25, state.kinds);
    index.lastEventId = state.lastEventId;
    index.entriesAdded = state.entriesAdded;
    return index;
  }

  /** Approximate heap bytes, for the index cache budget. */
  bytes(): number {
    return (
      this.approxBytes +
      this.vectors.bytes() +
      this.kinds.byteLength +
      this.scores.byteLength +
      this.owners.bytes()
    );
  }
}

/** Text, record and postings of a document, roughly. */
function docBytes(doc: SearchDoc): number {
  return 160 + doc.text.length * 4 + doc.id.length * 2;
}
