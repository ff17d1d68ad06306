import type { QueryEmbedder } from '../embedders/query-embedder.js';
import type { ReadCounter } from '../insights/activity-counters.js';
import type { IndexManager } from '../search/index-manager.js';
import type { SearchDoc } from '../search/search-doc.js';
import { tokenize } from '../search/tokenizer.js';
import type { EngramCaller } from './access.js';
import { isValidAt } from './decay.js';
import { toEngramDoc } from './engram-doc.js';
import type { EngramStore } from './engram-store.js';
import { renderWithinBudget } from './inject-render.js';
import {
  hasHistoricalIntent,
  rankCandidates,
  selectWithinBudget,
  type InjectCandidate,
} from './inject-selection.js';
import { selectScopes } from './scope-selection.js';

/**
 * POST /inject (plur.md §1.7): the engrams an agent should have in front of it for a task, as sectioned
 * text within a token budget. Candidates are the active, currently valid engrams of the requested scopes
 * that match the task lexically or by vector, plus every pinned one; inject-selection.ts scores and picks,
 * inject-render.ts writes the text. Each injected engram's injection_count goes up.
 *
 * Scopes: `scope` (one) or `scopes` (several), each covering its readable sub-scopes (group:acme/platform
 * includes group:acme/platform/infra); neither means every readable scope. Unreadable scopes contribute
 * nothing.
 */
export interface InjectRequest {
  task: string;
  scope?: string | undefined;
  scopes?: string[] | undefined;
  maxEngrams: number;
  budget: number;
}

export interface InjectOutcome {
  text: string;
  count: number;
  injectedIds: string[];
  directives: string;
  constraints: string;
  consider: string;
  tokensUsed: number;
}

/**
 * Candidates per search leg. The selection then keeps at most 10 per domain within a budget of a few
 * thousand tokens (an engram takes some 20-150 tokens), so a few hundred relevant candidates are already more than fit.
 */
const CANDIDATES_PER_LEG = 100;

export class EngramInject {
  constructor(
    private readonly indexes: IndexManager,
    private readonly queries: QueryEmbedder,
    private readonly store: EngramStore,
    private readonly embedTimeoutMs: number,
    /** Counts each inject (sessions' included) in the organisation's insights (absent: not counted). */
    private readonly activity?: ReadCounter,
  ) {}

  async inject(caller: EngramCaller, request: InjectRequest): Promise<InjectOutcome> {
    this.activity?.count(caller.tenant, 'inject');
    const now = Date.now();
    const requested = request.scope !== undefined ? [request.scope] : request.scopes;
    const inScope = selectScopes(caller.access, caller.org, requested).covers;
    const accept = (doc: SearchDoc): boolean => {
      const r = doc.record;
      return (
        r.status === 'active' &&
        typeof r.scope === 'string' &&
        inScope(r.scope) &&
        isValidAt(
          { valid_from: nullableString(r.valid_from), valid_until: nullableString(r.valid_until) },
          now,
        )
      );
    };
    const index = await this.indexes.fresh(caller.tenant);
    const tokens = tokenize(request.task);
    const embedded = await this.queries.embed(request.task, this.embedTimeoutMs);
    const search = index.search({
      tokens,
      vector: embedded.vector,
      kinds: ['engram'],
      accept,
      vectorFloor: this.queries.embedder.noiseFloor,
      perLeg: CANDIDATES_PER_LEG,
    });
    const candidates: InjectCandidate[] = [];
    const seen = new Set<string>();
    for (const c of search.candidates) {
      const doc = toEngramDoc(c.doc.record);
      if (!doc) continue;
      candidates.push({ doc, cosine: c.cosine });
      seen.add(doc.id);
    }
    // Pinned engrams are injected whether or not they match the task.
    for (const d of index.pinned()) {
      if (d.kind !== 'engram' || seen.has(d.id) || !accept(d)) continue;
      const doc = toEngramDoc(d.record);
      if (doc) candidates.push({ doc, cosine: null });
    }

    const ranked = rankCandidates(candidates, { tokens, historical: hasHistoricalIntent(request.task), now });
    const selection = selectWithinBudget(ranked, { budget: request.budget, maxEngrams: request.maxEngrams });
    const rendered = renderWithinBudget(selection, request.budget);
    await this.store.touch(caller.tenant, caller.actor, 'inject', rendered.ids, new Date(now));
    return {
      text: rendered.text,
      count: rendered.ids.length,
      injectedIds: rendered.ids,
      directives: rendered.directives,
      constraints: rendered.constraints,
      consider: rendered.consider,
      tokensUsed: rendered.tokens,
    };
  }
}

const nullableString = (value: unknown): string | null => (typeof value === 'string' ? value : null);
