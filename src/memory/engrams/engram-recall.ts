import type { QueryEmbedder } from '../embedders/query-embedder.js';
import type { ReadCounter } from '../insights/activity-counters.js';
import { passesFloor, round4, similarityOf } from '../scoring.js';
import type { IndexManager } from '../search/index-manager.js';
import type { SearchDoc } from '../search/search-doc.js';
import { tokenize } from '../search/tokenizer.js';
import type { EngramCaller } from './access.js';
import type { EngramStore } from './engram-store.js';
import { toEngramDoc } from './engram-doc.js';
import { dayOf, type EngramType } from './model.js';
import { recallResult, resultsThatFit, type RecallAnswer } from './recall-answer.js';
import { selectScopes } from './scope-selection.js';

/**
 * POST /recall (plur.md §1.6): BM25 and vector legs over the shared workspace index, fused with reciprocal
 * rank fusion (k = 60). `score` is the fused sum divided by the most it could be (rank 1 in every leg that
 * ran), so it is 0..1. RRF ranks but does not judge, so a relevance floor on the match itself (the layer
 * API's similarity: lexical coverage blended with cosine above the embedder's noise floor) keeps nonsense
 * queries empty. Only active engrams of readable scopes take part; a requested scope covers its readable
 * sub-scopes (scope-selection.ts), and one the caller cannot read is dropped and reported, never refused.
 * The answer's shape and its size limit are recall-answer.ts's. Recall counts each returned engram (frequency, last accessed).
 */
export const RRF_K = 60;

export type RecallMode = 'hybrid' | 'keyword';

export interface RecallRequest {
  query: string;
  mode: RecallMode;
  limit: number;
  /** Scopes to search, each with its sub-scopes (`[]` searches nothing); every readable scope when absent. */
  scopes?: string[] | undefined;
  /** Dotted domain: the engram's domain equals it or lies below it. */
  domain?: string | undefined;
  type?: EngramType | undefined;
  /** The engram must carry every one of these tags. */
  tags?: string[] | undefined;
  /** Budget for embedding the query; past it recall answers from BM25 ("hybrid-degraded"). */
  timeoutMs: number;
}

export interface RecallSettings {
  relevanceFloor: number;
}

export class EngramRecall {
  constructor(
    private readonly indexes: IndexManager,
    private readonly queries: QueryEmbedder,
    private readonly store: EngramStore,
    private readonly settings: RecallSettings,
    /** Counts each recall in the organisation's insights (absent: not counted). */
    private readonly activity?: ReadCounter,
  ) {}

  async recall(caller: EngramCaller, request: RecallRequest): Promise<RecallAnswer> {
    this.activity?.count(caller.tenant, 'recall');
    const scopes = selectScopes(caller.access, caller.org, request.scopes);
    const index = await this.indexes.fresh(caller.tenant);
    const embedded =
      request.mode === 'hybrid' ? await this.queries.embed(request.query, request.timeoutMs) : undefined;
    const vector = embedded?.vector;
    const noiseFloor = this.queries.embedder.noiseFloor;
    const search = index.search({
      tokens: tokenize(request.query),
      vector,
      kinds: ['engram'],
      accept: acceptFor(request, scopes.covers),
      vectorFloor: noiseFloor,
      perLeg: Math.max(50, request.limit * 3),
    });
    const legs = vector ? 2 : 1;
    const best = legs / (RRF_K + 1);
    const legsRun = { lexical: true, vector: vector !== undefined };
    const ranked = search.candidates
      .filter((c) =>
        passesFloor(
          c,
          legsRun,
          similarityOf(c, legsRun, this.queries.embedder.vectorWeight),
          this.settings.relevanceFloor,
        ),
      )
      .map((c) => {
        const rrf =
          (c.bm25Rank === null ? 0 : 1 / (RRF_K + c.bm25Rank)) +
          (c.vectorRank === null ? 0 : 1 / (RRF_K + c.vectorRank));
        return { doc: c.doc, score: round4(Math.min(1, rrf / best)), lexical: c.bm25Norm };
      })
      .sort((a, b) => b.score - a.score || b.lexical - a.lexical)
      .slice(0, request.limit)
      .flatMap(({ doc, score }) => {
        const engram = toEngramDoc(doc.record);
        return engram ? [{ doc: engram, score }] : [];
      });
    const envelope = {
      mode:
        request.mode === 'keyword'
          ? ('keyword' as const)
          : vector
            ? ('hybrid' as const)
            : ('hybrid-degraded' as const),
      requested_mode: request.mode,
      vector: vector !== undefined,
      effective_scopes: [...scopes.effective],
      dropped_scopes: [...scopes.dropped],
    };
    const now = new Date();
    const kept = ranked.slice(0, resultsThatFit(ranked, envelope, dayOf(now)));
    const touched = await this.store.touch(
      caller.tenant,
      caller.actor,
      'recall',
      kept.map((r) => r.doc.id),
      now,
    );
    const results: RecallAnswer['results'] = [];
    kept.forEach((r, i) => {
      const doc = touched[i];
      if (doc) results.push(recallResult(doc, r.score));
    });
    return { results, count: results.length, ...envelope, truncated: kept.length < ranked.length };
  }
}

function acceptFor(request: RecallRequest, inScope: (scope: string) => boolean): (doc: SearchDoc) => boolean {
  const domain = request.domain;
  const tags = request.tags ?? [];
  return (doc) => {
    const r = doc.record;
    if (r.status !== 'active' || typeof r.scope !== 'string' || !inScope(r.scope)) return false;
    if (request.type !== undefined && r.type !== request.type) return false;
    if (domain !== undefined) {
      const d = typeof r.domain === 'string' ? r.domain : '';
      if (d !== domain && !d.startsWith(`${domain}.`) && !d.startsWith(`${domain}/`)) return false;
    }
    if (tags.length > 0) {
      const own = Array.isArray(r.tags) ? (r.tags as unknown[]) : [];
      if (!tags.every((t) => own.includes(t))) return false;
    }
    return true;
  };
}
