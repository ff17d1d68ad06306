import { asNullableString, asNumber, asString } from '../fields.js';
import { buildContext } from './context-builder.js';
import type { Layer } from './documents.js';
import type { QueryEmbedder, QueryVector } from './embedders/query-embedder.js';
import type { Namespace } from './namespace.js';
import { RecallCache } from './recall-cache.js';
import { passesFloor, recencyOf, round4, scoreOf, similarityOf, type ScoreWeights } from './scoring.js';
import type { IndexDetail, IndexManager } from './search/index-manager.js';
import type { SearchDoc } from './search/search-doc.js';
import { queryEntities } from './search/entities.js';
import { tokenize } from './search/tokenizer.js';
import { TopK } from './search/top-k.js';
import type { Candidate, WorkspaceIndex } from './search/workspace-index.js';
import type { Tenant } from '../tenant.js';
import type { Tracing } from '../tracing/tracing.js';

/**
 * The layer API's read side: hybrid recall over the workspace index (BM25 and vector legs, union of their
 * candidates, one similarity scale, a relevance floor), context building within a token budget, and
 * namespace-narrowed counts. Every read first catches the index up with the workspace stream.
 */
export interface RecallInput {
  workspace: Tenant;
  query: string;
  topK: number;
  layers: readonly Layer[];
  /** Narrowing: only memories of this user and/or agent. */
  filter: Namespace;
  /**
   * hybrid (default): BM25 and vectors; keyword: BM25 only, no query embedding (cheaper, exact terms);
   * vector: embeddings only.
   */
  mode?: 'hybrid' | 'keyword' | 'vector';
}

export interface RecalledMemory {
  id: string;
  layer: Layer;
  content: string;
  score: number;
  similarity: number;
  recency: number;
  importance: number;
  created_at: string;
  metadata: Record<string, unknown>;
  user_id: string | null;
  agent_id: string | null;
  session_id: string | null;
  /** Fact fields, for semantic results. */
  record: Record<string, unknown>;
}

export type SearchMode = 'hybrid' | 'hybrid-degraded' | 'keyword' | 'vector';

export interface RecallResult {
  results: RecalledMemory[];
  totalFound: number;
  cacheHit: boolean;
  mode: SearchMode;
  /** Whether the vector leg took part. */
  vector: boolean;
  degradedReason: string | null;
}

export interface ContextResult {
  content: string;
  tokenCount: number;
  memoriesUsed: number;
  cacheHit: boolean;
  mode: SearchMode;
}

export interface RecallSettings {
  weights: ScoreWeights;
  relevanceFloor: number;
  recencyLambda: number;
  embedTimeoutMs: number;
  cacheTtlMs: number;
  /** Request traces: each ranking (query embedding, both legs, fusion) is a `search` span. */
  tracing: Tracing;
}

/** Memories considered for a context string (the reference uses recall with top_k 50). */
const CONTEXT_CANDIDATES = 50;

export class RecallService {
  private readonly recallCache: RecallCache<RecallResult>;
  private readonly contextCache: RecallCache<ContextResult>;

  constructor(
    private readonly indexes: IndexManager,
    private readonly queries: QueryEmbedder,
    private readonly settings: RecallSettings,
  ) {
    this.recallCache = new RecallCache(settings.cacheTtlMs);
    this.contextCache = new RecallCache(settings.cacheTtlMs);
  }

  async recall(input: RecallInput): Promise<RecallResult> {
    const index = await this.indexes.fresh(input.workspace);
    const key = RecallCache.key([
      input.workspace,
      'recall',
      input.filter.userId,
      input.filter.agentId,
      input.topK,
      [...input.layers].sort().join(','),
      input.mode ?? 'hybrid',
      normalizeQuery(input.query),
    ]);
    const cached = this.recallCache.get(key, index.lastEventId);
    if (cached) return { ...cached, cacheHit: true };
    const result = await this.traced(index, input);
    this.recallCache.set(key, index.lastEventId, result, earliestExpiry(result.results));
    return result;
  }

  async context(
    input: Omit<RecallInput, 'topK' | 'layers'> & { tokenBudget: number },
  ): Promise<ContextResult> {
    const index = await this.indexes.fresh(input.workspace);
    const key = RecallCache.key([
      input.workspace,
      'context',
      input.filter.userId,
      input.filter.agentId,
      input.tokenBudget,
      normalizeQuery(input.query),
    ]);
    const cached = this.contextCache.get(key, index.lastEventId);
    if (cached) return { ...cached, cacheHit: true };
    const ranked = await this.traced(index, {
      ...input,
      topK: CONTEXT_CANDIDATES,
      layers: ['working', 'episodic', 'semantic'],
    });
    const built = buildContext(
      ranked.results.map((r) => ({ layer: r.layer, content: r.content, score: r.score, record: r.record })),
      input.tokenBudget,
    );
    const result: ContextResult = {
      content: built.content,
      tokenCount: built.tokenCount,
      memoriesUsed: built.used,
      cacheHit: false,
      mode: ranked.mode,
    };
    this.contextCache.set(key, index.lastEventId, result, earliestExpiry(ranked.results));
    return result;
  }

  /** Counts of a namespace, from the index (the workspace-wide counts come from Redis counters). */
  /** Counts of one namespace's live memories per layer, and the agents that wrote them (sorted). */
  async namespaceCounts(
    workspace: Tenant,
    filter: Namespace,
  ): Promise<{ counts: Record<Layer, number>; agents: string[] }> {
    const index = await this.indexes.fresh(workspace);
    const accept = this.acceptFor(filter, Date.now());
    const counts: Record<Layer, number> = { working: 0, episodic: 0, semantic: 0 };
    const agents = new Set<string>();
    for (const doc of index.documents(['working', 'episodic', 'semantic'])) {
      if (!accept(doc)) continue;
      counts[doc.kind as Layer]++;
      if (typeof doc.record.agent_id === 'string') agents.add(doc.record.agent_id);
    }
    return { counts, agents: [...agents].sort() };
  }

  /** Indexes this instance holds and their approximate bytes. */
  indexUsage(): { workspaces: number; bytes: number; rebuilds: number } {
    return this.indexes.usage();
  }

  indexDetails(): IndexDetail[] {
    return this.indexes.details();
  }

  cacheSize(workspace: Tenant): number {
    return this.recallCache.sizeOf(workspace) + this.contextCache.sizeOf(workspace);
  }

  private traced(index: WorkspaceIndex, input: RecallInput): Promise<RecallResult> {
    if (!this.settings.tracing.recording) return this.rank(index, input);
    const attributes = { 'mnemo.search.mode': input.mode ?? 'hybrid', 'mnemo.search.top_k': input.topK };
    return this.settings.tracing.child('search', 'internal', attributes, () => this.rank(index, input));
  }

  private async rank(index: WorkspaceIndex, input: RecallInput): Promise<RecallResult> {
    const now = Date.now();
    const mode = input.mode ?? 'hybrid';
    const tokens = mode === 'vector' ? [] : tokenize(input.query);
    const embedder = this.queries.embedder;
    let query: QueryVector | undefined;
    if (mode !== 'keyword' && index.vectors.size > 0) {
      query = await this.queries.embed(input.query, this.settings.embedTimeoutMs);
    }
    const vector = query?.vector;
    const legs = { lexical: mode !== 'vector', vector: vector !== undefined };
    const search = index.search({
      tokens,
      vector,
      kinds: input.layers,
      // The user and agent are tested by the index; what is left, expiry (working) and supersession
      // (semantic), can refuse those two kinds only.
      owner: { userId: input.filter.userId, agentId: input.filter.agentId },
      accept: current(now),
      acceptKinds: ['working', 'semantic'],
      vectorFloor: embedder.noiseFloor,
      // Measured on LoCoMo (bench/fusion-study.ts): wider legs than 5 × top_k do not change what is found.
      perLeg: Math.max(50, input.topK * 5),
      entities: queryEntities(input.query),
    });
    const { weights, relevanceFloor, recencyLambda } = this.settings;
    // Score every candidate, but build result objects only for the top k.
    const candidates = search.candidates;
    const similarities = new Float64Array(candidates.length);
    const recencies = new Float64Array(candidates.length);
    const top = new TopK(input.topK);
    let found = 0;
    candidates.forEach((candidate, i) => {
      const similarity = similarityOf(candidate, legs, embedder.vectorWeight);
      if (!passesFloor(candidate, legs, similarity, relevanceFloor)) return;
      found++;
      const recency = recencyOf(candidate.doc.ts, now, recencyLambda);
      similarities[i] = similarity;
      recencies[i] = recency;
      const importance = asNumber(candidate.doc.record.importance, 0.5);
      // Ties on the rounded score go to the more similar memory.
      top.push(i, round4(scoreOf(similarity, recency, importance, weights)) + similarity * 1e-6);
    });
    const ranked = top.sorted().map(({ slot: i }): RecalledMemory => {
      const { doc } = candidates[i] as Candidate;
      const record = doc.record;
      const importance = asNumber(record.importance, 0.5);
      const similarity = similarities[i] as number;
      const recency = recencies[i] as number;
      return {
        id: doc.id,
        layer: doc.kind as Layer,
        content: asString(record.content, doc.text),
        score: round4(scoreOf(similarity, recency, importance, weights)),
        similarity: round4(similarity),
        recency: round4(recency),
        importance,
        created_at: asString(record.created_at, new Date(doc.ts).toISOString()),
        metadata: (record.metadata as Record<string, unknown> | undefined) ?? {},
        user_id: asNullableString(record.user_id),
        agent_id: asNullableString(record.agent_id),
        session_id: asNullableString(record.session_id),
        record,
      };
    });
    const degraded = query?.degraded === true;
    return {
      results: ranked,
      // Matches beyond the legs' cut were not scored; they count as found (they matched the query).
      totalFound: found + Math.max(0, search.matched - candidates.length),
      cacheHit: false,
      mode: degraded ? 'hybrid-degraded' : mode === 'vector' ? 'vector' : vector ? 'hybrid' : 'keyword',
      vector: vector !== undefined,
      degradedReason: query?.degraded ? query.detail : null,
    };
  }

  /** Namespace narrowing, expiry, and only current facts. */
  private acceptFor(filter: Namespace, now: number): (doc: SearchDoc) => boolean {
    const { userId, agentId } = filter;
    const isCurrent = current(now);
    return (doc) =>
      (userId === null || doc.record.user_id === userId) &&
      (agentId === null || doc.record.agent_id === agentId) &&
      isCurrent(doc);
  }
}

/** Not an expired working entry, not a superseded fact. */
function current(now: number): (doc: SearchDoc) => boolean {
  return (doc) => {
    const r = doc.record;
    if (doc.kind === 'working' && typeof r.expires_at === 'number' && r.expires_at <= now) return false;
    return !(doc.kind === 'semantic' && r.status === 'superseded');
  };
}

function normalizeQuery(query: string): string {
  return query.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** A cached answer must not outlive the first working entry in it that expires. */
function earliestExpiry(results: RecalledMemory[]): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const r of results) {
    const expires = r.record.expires_at;
    if (typeof expires === 'number' && expires < earliest) earliest = expires;
  }
  return earliest;
}
