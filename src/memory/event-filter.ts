import type { EventView } from './event-view.js';

/**
 * What a subscription (an event socket's, or a webhook's) selects. Every given part must match (types AND user_id AND agent_id); an absent part
 * matches everything. Type patterns are exact types (`memory.fact.added`), family prefixes ending in `.*`
 * (`memory.*` matches `memory.fact.added` and `memory.working.added`, not `working.evicted`), or `*`.
 * A namespace filter never matches an event that has no such field.
 */
export interface FilterSpec {
  types?: readonly string[];
  user_id?: string;
  agent_id?: string;
}

export class Filter {
  private readonly exact: ReadonlySet<string>;
  private readonly prefixes: readonly string[];
  private readonly anyType: boolean;
  private readonly userId: string | undefined;
  private readonly agentId: string | undefined;

  constructor(readonly spec: FilterSpec) {
    const types = spec.types ?? ['*'];
    this.anyType = types.includes('*');
    this.exact = new Set(types.filter((t) => !t.endsWith('*')));
    // `memory.*` is kept as `memory.`: a type matches when it starts with it.
    this.prefixes = types.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1));
    this.userId = spec.user_id;
    this.agentId = spec.agent_id;
  }

  matches(event: EventView): boolean {
    if (this.userId !== undefined && event.userId !== this.userId) return false;
    if (this.agentId !== undefined && event.agentId !== this.agentId) return false;
    return this.anyType || this.exact.has(event.type) || this.matchesPrefix(event.type);
  }

  private matchesPrefix(type: string): boolean {
    for (const prefix of this.prefixes) if (type.startsWith(prefix)) return true;
    return false;
  }
}
