import type { SearchDoc } from '../search/search-doc.js';
import type { IndexManager } from '../search/index-manager.js';
import type { EngramCaller } from './access.js';
import { requireScope } from './engram-input.js';
import type { EngramStore } from './engram-store.js';
import type { EngramDoc, EngramStatus } from './model.js';
import { selectScopes } from './scope-selection.js';

/**
 * GET /engrams: the engrams of the scopes the caller reads, oldest first (so offsets stay stable while new
 * engrams arrive, which lets a client walk the pages). Filtering runs over the workspace's search index,
 * caught up with every write first; the page itself is read from Redis, so counters are current.
 * `scope` lists that scope and its readable sub-scopes (scope-selection.ts); a scope the caller cannot read
 * lists nothing, exactly like a scope without engrams.
 */
export interface ListQuery {
  /** A scope and its sub-scopes; all readable scopes when absent. */
  scope?: string | undefined;
  status?: EngramStatus | undefined;
  limit: number;
  offset: number;
}

export class EngramList {
  constructor(
    private readonly indexes: IndexManager,
    private readonly store: EngramStore,
  ) {}

  async list(caller: EngramCaller, query: ListQuery): Promise<{ docs: EngramDoc[]; total: number }> {
    const { access, org, tenant } = caller;
    const scope = query.scope === undefined ? undefined : requireScope(query.scope, org, 'query.scope');
    const scopes = selectScopes(access, org, scope === undefined ? undefined : [scope]);
    if (scopes.effective.length === 0) return { docs: [], total: 0 };
    const index = await this.indexes.fresh(tenant);
    const matches: SearchDoc[] = [];
    for (const doc of index.documents(['engram'])) {
      const record = doc.record;
      const docScope = record.scope;
      if (typeof docScope !== 'string') continue;
      if (!scopes.covers(docScope)) continue;
      if (query.status !== undefined && record.status !== query.status) continue;
      matches.push(doc);
    }
    matches.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const page = matches.slice(query.offset, query.offset + query.limit).map((d) => d.id);
    const docs = (await this.store.getMany(tenant, page)).filter((d): d is EngramDoc => d !== undefined);
    return { docs, total: matches.length };
  }
}
