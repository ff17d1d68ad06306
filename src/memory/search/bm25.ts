/**
 * An in-memory BM25 inverted index over document slots (k1 = 1.2, b = 0.75, Lucene's idf, which is never
 * negative). Removal is a tombstone: df, N and total length are corrected at once, postings of dead slots
 * are skipped when scoring and dropped when the owner compacts the index.
 */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

class Postings {
  slots: Int32Array = new Int32Array(4);
  tfs: Uint16Array = new Uint16Array(4);
  size = 0;
  /** Live documents containing the term. */
  df = 0;

  push(slot: number, tf: number): void {
    if (this.size === this.slots.length) {
      const slots = new Int32Array(this.size * 2);
      slots.set(this.slots);
      this.slots = slots;
      const tfs = new Uint16Array(this.size * 2);
      tfs.set(this.tfs);
      this.tfs = tfs;
    }
    this.slots[this.size] = slot;
    this.tfs[this.size] = Math.min(tf, 65_535);
    this.size++;
  }
}

interface RestoredTerms {
  terms: string[];
  offsets: Int32Array;
  ids: Int32Array;
  live: Uint8Array;
}

/** What a snapshot keeps of a BM25 index (see Bm25Index.exportState). */
export interface Bm25State {
  /** Terms in the index's order; `sizes[i]` postings of term i follow those of term i - 1 in `slots`/`tfs`. */
  terms: string[];
  sizes: Int32Array;
  dfs: Int32Array;
  slots: Int32Array;
  tfs: Uint16Array;
  /** Token count of each slot. */
  lengths: Float32Array;
  liveDocs: number;
  totalLength: number;
}

export interface TermWeight {
  postings: Postings;
  idf: number;
}

export class Bm25Index {
  private readonly terms = new Map<string, Postings>();
  /** Unique terms of each slot (to correct df on removal); empty for dead slots. */
  private slotTerms: (string[] | undefined)[] = [];
  /**
   * The unique terms of slots restored from a snapshot, as term numbers in one flat array (slot i's are
   * ids[offsets[i]..offsets[i + 1])), until the slot is removed: a million small arrays cost more to
   * build than the rest of a restore (bench/profile-cold-start.ts). `live[slot]` = 1 while they hold.
   */
  private restored: RestoredTerms | undefined;
  private lengths = new Float32Array(64);
  private liveDocs = 0;
  private totalLength = 0;

  add(slot: number, tokens: string[]): void {
    // Documents are short: counting in two small parallel arrays beats a Map per document.
    const terms: string[] = [];
    const counts: number[] = [];
    for (const token of tokens) {
      const at = terms.indexOf(token);
      if (at >= 0) counts[at] = (counts[at] as number) + 1;
      else {
        terms.push(token);
        counts.push(1);
      }
    }
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i] as string;
      let postings = this.terms.get(term);
      if (!postings) {
        postings = new Postings();
        this.terms.set(term, postings);
      }
      postings.push(slot, counts[i] as number);
      postings.df++;
    }
    if (slot >= this.lengths.length) {
      const lengths = new Float32Array(Math.max(slot + 1, this.lengths.length * 2));
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.lengths[slot] = tokens.length;
    this.slotTerms[slot] = terms;
    if (this.restored && slot < this.restored.live.length) this.restored.live[slot] = 0;
    this.liveDocs++;
    this.totalLength += tokens.length;
  }

  remove(slot: number): void {
    const terms = this.termsOf(slot);
    if (!terms) return;
    for (const term of terms) {
      const postings = this.terms.get(term);
      if (postings) postings.df--;
    }
    this.slotTerms[slot] = undefined;
    if (this.restored && slot < this.restored.live.length) this.restored.live[slot] = 0;
    this.liveDocs--;
    this.totalLength -= this.lengths[slot] ?? 0;
  }

  /** Whether the document in `slot` contains `term`. */
  hasTerm(slot: number, term: string): boolean {
    const own = this.slotTerms[slot];
    if (own) return own.includes(term);
    const r = this.restored;
    if (!r || slot >= r.live.length || r.live[slot] === 0) return false;
    for (let k = r.offsets[slot] as number; k < (r.offsets[slot + 1] as number); k++)
      if (r.terms[r.ids[k] as number] === term) return true;
    return false;
  }

  /** The unique terms of a live slot; undefined for a dead one. */
  private termsOf(slot: number): string[] | undefined {
    const own = this.slotTerms[slot];
    if (own) return own;
    const r = this.restored;
    if (!r || slot >= r.live.length || r.live[slot] === 0) return undefined;
    const terms: string[] = [];
    for (let k = r.offsets[slot] as number; k < (r.offsets[slot + 1] as number); k++)
      terms.push(r.terms[r.ids[k] as number] as string);
    return terms;
  }

  get documentCount(): number {
    return this.liveDocs;
  }

  /** Query terms that exist in the index with their idf (unknown terms contribute nothing). */
  weights(queryTokens: string[]): TermWeight[] {
    const out: TermWeight[] = [];
    const seen = new Set<string>();
    for (const term of queryTokens) {
      if (seen.has(term)) continue;
      seen.add(term);
      const postings = this.terms.get(term);
      if (!postings || postings.df <= 0) continue;
      const idf = Math.log(1 + (this.liveDocs - postings.df + 0.5) / (postings.df + 0.5));
      out.push({ postings, idf });
    }
    return out;
  }

  /** The most a document could score for these query terms: every term's idf at saturation. */
  static ceiling(weights: TermWeight[]): number {
    let sum = 0;
    for (const w of weights) sum += w.idf * (BM25_K1 + 1);
    return sum;
  }

  /**
   * Adds each live, accepted slot's BM25 score to `scores` and records slots seen for the first time in
   * `touched`. `accept` is the caller's filter (kind, namespace, expiry).
   */
  score(
    weights: TermWeight[],
    isLive: (slot: number) => boolean,
    accept: (slot: number) => boolean,
    scores: Float64Array,
    touched: number[],
  ): void {
    const avg = this.liveDocs > 0 ? this.totalLength / this.liveDocs : 1;
    const lengths = this.lengths;
    for (const { postings, idf } of weights) {
      const { slots, tfs, size } = postings;
      for (let i = 0; i < size; i++) {
        const slot = slots[i] as number;
        if (!isLive(slot)) continue;
        const prior = scores[slot] as number;
        if (prior === 0) {
          if (!accept(slot)) continue;
          touched.push(slot);
        }
        const tf = tfs[i] as number;
        const norm = tf + BM25_K1 * (1 - BM25_B + (BM25_B * (lengths[slot] as number)) / avg);
        scores[slot] = prior + (idf * tf * (BM25_K1 + 1)) / norm;
      }
    }
  }

  /** Drops postings of slots that are no longer live (after which those slots may be reused). */
  compact(isLive: (slot: number) => boolean): void {
    for (const [term, postings] of this.terms) {
      let kept = 0;
      for (let i = 0; i < postings.size; i++) {
        const slot = postings.slots[i] as number;
        if (!isLive(slot)) continue;
        postings.slots[kept] = slot;
        postings.tfs[kept] = postings.tfs[i] as number;
        kept++;
      }
      postings.size = kept;
      if (kept === 0) this.terms.delete(term);
    }
  }

  /**
   * Copies of the postings (term by term, concatenated), lengths and counters, for a persisted snapshot
   * (index-snapshot.ts). A generator: it yields after every `step` postings copied, and the caller must
   * not change the index until it returns.
   */
  *exportState(slots: number, step = 250_000): Generator<undefined, Bm25State> {
    const terms = [...this.terms.keys()];
    let total = 0;
    for (const postings of this.terms.values()) total += postings.size;
    const sizes = new Int32Array(terms.length);
    const dfs = new Int32Array(terms.length);
    const postingSlots = new Int32Array(total);
    const tfs = new Uint16Array(total);
    let at = 0;
    let i = 0;
    let copied = 0;
    for (const postings of this.terms.values()) {
      sizes[i] = postings.size;
      dfs[i] = postings.df;
      postingSlots.set(postings.slots.subarray(0, postings.size), at);
      tfs.set(postings.tfs.subarray(0, postings.size), at);
      at += postings.size;
      i++;
      copied += postings.size;
      if (copied >= step) {
        copied = 0;
        yield;
      }
    }
    const lengths = new Float32Array(slots);
    lengths.set(this.lengths.subarray(0, Math.min(slots, this.lengths.length)));
    return {
      terms,
      sizes,
      dfs,
      slots: postingSlots,
      tfs,
      lengths,
      liveDocs: this.liveDocs,
      totalLength: this.totalLength,
    };
  }

  /**
   * The index `exportState` described, given which slots hold a live document (`kinds[slot] !== 0`). Each
   * live slot's unique terms are recovered from the postings (dead slots still listed until compaction are
   * skipped; slots are reused only after compaction, so a live slot's postings are all its own). Throws on
   * a state that does not hold together; yields every `step` postings.
   */
  static *fromState(state: Bm25State, kinds: Uint8Array, step = 250_000): Generator<undefined, Bm25Index> {
    const { terms, sizes, dfs, slots, tfs } = state;
    const slotCount = kinds.length;
    if (sizes.length !== terms.length || dfs.length !== terms.length || tfs.length !== slots.length)
      throw new Error('BM25 snapshot: section sizes disagree');
    if (state.lengths.length !== slotCount) throw new Error('BM25 snapshot: lengths do not cover the slots');
    const index = new Bm25Index();
    const live = new Uint8Array(slotCount);
    let liveCount = 0;
    for (let slot = 0; slot < slotCount; slot++) {
      if (kinds[slot] === 0) continue;
      live[slot] = 1;
      liveCount++;
    }
    if (liveCount !== state.liveDocs)
      throw new Error('BM25 snapshot: live documents disagree with the slots');
    // Slot -> terms, counted then filled: offsets[slot + 1] counts the live slot's postings first.
    const offsets = new Int32Array(slotCount + 1);
    let at = 0;
    let done = 0;
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i] as string;
      const size = sizes[i] as number;
      const df = dfs[i] as number;
      const malformed = typeof term !== 'string' || size < 1 || df < 0 || df > size;
      if (malformed || at + size > slots.length || index.terms.has(term))
        throw new Error('BM25 snapshot: malformed term table');
      const postings = new Postings();
      postings.slots = slots.slice(at, at + size);
      postings.tfs = tfs.slice(at, at + size);
      postings.size = size;
      postings.df = df;
      for (let j = 0; j < size; j++) {
        const slot = postings.slots[j] as number;
        if (slot < 0 || slot >= slotCount) throw new Error('BM25 snapshot: a posting names no slot');
        if (live[slot] === 1) offsets[slot + 1] = (offsets[slot + 1] as number) + 1;
      }
      index.terms.set(term, postings);
      at += size;
      done += size;
      if (done >= step) {
        done = 0;
        yield;
      }
    }
    if (at !== slots.length) throw new Error('BM25 snapshot: postings left over');
    for (let slot = 0; slot < slotCount; slot++)
      offsets[slot + 1] = (offsets[slot + 1] as number) + (offsets[slot] as number);
    const ids = new Int32Array(offsets[slotCount] as number);
    const fill = offsets.slice(0, slotCount);
    at = 0;
    for (let i = 0; i < terms.length; i++) {
      const end = at + (sizes[i] as number);
      for (; at < end; at++) {
        const slot = slots[at] as number;
        if (live[slot] !== 1) continue;
        const k = fill[slot] as number;
        ids[k] = i;
        fill[slot] = k + 1;
      }
    }
    yield;
    index.slotTerms = new Array<string[] | undefined>(slotCount);
    index.restored = { terms, offsets, ids, live };
    index.lengths = new Float32Array(Math.max(64, slotCount));
    index.lengths.set(state.lengths);
    index.liveDocs = state.liveDocs;
    index.totalLength = state.totalLength;
    return index;
  }

  /** Approximate heap bytes, for the index cache's budget. */
  bytes(): number {
    let bytes = this.lengths.byteLength;
    for (const [term, p] of this.terms) bytes += term.length * 2 + 64 + p.slots.byteLength + p.tfs.byteLength;
    bytes += this.slotTerms.length * 8 + this.liveDocs * 48;
    if (this.restored)
      bytes +=
        this.restored.offsets.byteLength + this.restored.ids.byteLength + this.restored.live.byteLength;
    return bytes;
  }
}
