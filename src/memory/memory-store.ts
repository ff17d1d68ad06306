import type { RedisClient } from '../redis/clients.js';
import type { Keys } from '../redis/keys.js';
import { ScriptError } from '../redis/script-errors.js';
import type { ScriptArg, Scripts } from '../redis/scripts.js';
import type { EpisodeDoc, MemoryDoc, WorkingDoc } from './documents.js';
import type { EventLog } from './event-log.js';
import type { Actor } from './events.js';
import type { BuiltFact } from './facts/fact-builder.js';
import { namespaceKey, parseNamespaceKey, type Namespace } from './namespace.js';
import { SnapshotStore } from './search/snapshot-store.js';
import { vectorToBuffer } from './search/vector-store.js';
import { parseTenant, type Tenant } from '../tenant.js';

/** Rounds of erasure before the last one deletes working entries still listed (see forgetUser). */
const ERASURE_ROUNDS = 4;

/**
 * Typed wrappers around the memory Lua scripts: every write of the layer API is one atomic script that
 * also appends its events. Nothing here decides policy (capacity, TTL, extraction); the service does.
 */
export interface RememberWrite {
  workspace: Tenant;
  actor: Actor;
  ns: Namespace;
  capacity: number;
  now: Date;
  working: WorkingDoc;
  episode: EpisodeDoc;
  facts: BuiltFact[];
  /** Vectors by document id, when the embedder runs inline. */
  vectors: Map<string, Float32Array>;
}

export interface FactOutcome {
  id: string;
  outcome: 'added' | 'confirmed';
  superseded: string[];
}

export interface RememberOutcome {
  evicted: string[];
  expired: string[];
  facts: FactOutcome[];
}

export interface WorkspaceCounts {
  working: number;
  episodic: number;
  semantic: number;
  extractionFailures: number;
  embeddingFailures: number;
  lastWrite: string | null;
  agents: string[];
}

type FactReply = [string, 'added' | 'confirmed', string[]];

export class MemoryStore {
  private readonly indexSnapshots: SnapshotStore;

  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keys: Keys,
    private readonly events: EventLog,
  ) {
    this.indexSnapshots = new SnapshotStore(redis, scripts, keys);
  }

  /**
   * Deletes the tenant's persisted search-index snapshot (src/memory/search/snapshot-store.ts) and keeps
   * any snapshot captured before now from being committed: after an erasure (a snapshot holds copies of
   * the documents) and a re-embed (its vectors are stale). Indexes are then built from the documents.
   */
  dropIndexSnapshot(workspace: Tenant): Promise<void> {
    return this.indexSnapshots.drop(workspace);
  }

  // The memory scripts' KEYS are built from three groups, always in this order (see each script's header).

  /** docs, vecs, and the namespace's working-memory keys. */
  private workingKeys(workspace: Tenant, ns: Namespace): string[] {
    const nsKey = namespaceKey(ns);
    return [
      this.keys.docs(workspace),
      this.keys.vectors(workspace),
      this.keys.workingEntries(workspace, nsKey),
      this.keys.workingExpiry(workspace, nsKey),
      this.keys.workingExpiryIndex(workspace),
    ];
  }

  /** facts, fingerprints, slots. */
  private factKeys(workspace: Tenant): string[] {
    return [
      this.keys.facts(workspace),
      this.keys.factFingerprints(workspace),
      this.keys.factSlots(workspace),
    ];
  }

  /** stats, the user's document set, the event stream. */
  private bookkeepingKeys(workspace: Tenant, userId: string | null): string[] {
    return [
      this.keys.stats(workspace),
      this.keys.userDocs(workspace, userId ?? ''),
      this.keys.eventStream(workspace),
    ];
  }

  async remember(write: RememberWrite): Promise<RememberOutcome> {
    const { workspace, ns } = write;
    const keys = [
      ...this.workingKeys(workspace, ns),
      this.keys.episodes(workspace),
      ...this.factKeys(workspace),
      ...this.bookkeepingKeys(workspace, ns.userId),
      this.keys.agents(workspace),
      this.keys.namespaces(workspace),
    ];
    const vector = (id: string): ScriptArg => {
      const v = write.vectors.get(id);
      return v ? vectorToBuffer(v) : '';
    };
    const args: ScriptArg[] = [
      ...this.events.contextArgs(workspace, write.actor, write.now),
      write.now.getTime(),
      write.capacity,
      write.working.id,
      JSON.stringify(write.working),
      write.working.importance,
      write.working.expires_at ?? '',
      write.episode.id,
      JSON.stringify(write.episode),
      namespaceKey(ns),
      ns.userId ?? '',
      ns.agentId ?? '',
      vector(write.working.id),
      vector(write.episode.id),
      ...this.factArgs(write.facts, write.vectors),
    ];
    const [evicted, expired, ...facts] = await this.scripts.run<[string[], string[], ...FactReply[]]>(
      'remember',
      keys,
      args,
    );
    if (write.working.expires_at !== null) await this.redis.sadd(this.keys.ttlWorkspaces(), workspace);
    return { evicted, expired, facts: facts.map(toFactOutcome) };
  }

  /**
   * Facts found later (LLM extraction), deduplicated and superseding like remember's. None are stored when
   * their source episode no longer exists (forgotten or erased meanwhile): the answer is then empty.
   */
  async addFacts(
    workspace: Tenant,
    actor: Actor,
    ns: Namespace,
    facts: BuiltFact[],
    vectors: Map<string, Float32Array>,
    sourceEpisodeId: string | null,
  ): Promise<FactOutcome[]> {
    if (facts.length === 0) return [];
    const now = new Date();
    const keys = [
      this.keys.docs(workspace),
      this.keys.vectors(workspace),
      ...this.factKeys(workspace),
      ...this.bookkeepingKeys(workspace, ns.userId),
    ];
    const args = [
      ...this.events.contextArgs(workspace, actor, now),
      now.getTime(),
      ns.userId ?? '',
      sourceEpisodeId ?? '',
      ...this.factArgs(facts, vectors),
    ];
    const replies = await this.scripts.run<FactReply[]>('addFacts', keys, args);
    return replies.map(toFactOutcome);
  }

  private factArgs(facts: BuiltFact[], vectors: Map<string, Float32Array>): ScriptArg[] {
    const args: ScriptArg[] = [facts.length];
    for (const { doc, slots } of facts) {
      const v = vectors.get(doc.id);
      args.push(
        doc.id,
        JSON.stringify(doc),
        doc.fingerprint,
        slots.join('\n'),
        v ? vectorToBuffer(v) : '',
        doc.confidence,
      );
    }
    return args;
  }

  /** Clears one namespace's working memory; returns how many entries were deleted. */
  async clearWorking(workspace: Tenant, actor: Actor, ns: Namespace): Promise<number> {
    const keys = [
      ...this.workingKeys(workspace, ns),
      ...this.bookkeepingKeys(workspace, ns.userId),
      this.keys.namespaces(workspace),
    ];
    const args = [
      ...this.events.contextArgs(workspace, actor),
      namespaceKey(ns),
      ns.userId ?? '',
      ns.agentId ?? '',
    ];
    return this.scripts.run<number>('clearWorking', keys, args);
  }

  /** Expires due working entries of one namespace; returns how many. */
  async expireWorking(workspace: Tenant, ns: Namespace, now: Date): Promise<number> {
    const keys = [...this.workingKeys(workspace, ns), ...this.bookkeepingKeys(workspace, ns.userId)];
    const args = [
      ...this.events.contextArgs(workspace, { type: 'system', id: 'expiry' }, now),
      now.getTime(),
      namespaceKey(ns),
      ns.userId ?? '',
      ns.agentId ?? '',
    ];
    return this.scripts.run<number>('expireWorking', keys, args);
  }

  /** Namespaces of a workspace whose earliest TTL is due at `now`. */
  async dueNamespaces(workspace: Tenant, now: Date, limit = 100): Promise<string[]> {
    return this.redis.zrangebyscore(
      this.keys.workingExpiryIndex(workspace),
      '-inf',
      now.getTime(),
      'LIMIT',
      0,
      limit,
    );
  }

  /** Deletes one memory of the layer API; undefined when there is none with this id. */
  async deleteMemory(workspace: Tenant, actor: Actor, id: string): Promise<MemoryDoc | undefined> {
    const doc = await this.get(workspace, id);
    if (!doc) return undefined;
    const ns: Namespace = { userId: doc.user_id, agentId: doc.agent_id };
    const keys = [
      ...this.workingKeys(workspace, ns),
      this.keys.episodes(workspace),
      ...this.factKeys(workspace),
      ...this.bookkeepingKeys(workspace, ns.userId),
    ];
    try {
      const raw = await this.scripts.run<string>('deleteMemory', keys, [
        ...this.events.contextArgs(workspace, actor),
        id,
        namespaceKey(ns),
      ]);
      return JSON.parse(raw) as MemoryDoc;
    } catch (err) {
      if (err instanceof ScriptError && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  /**
   * Erases every memory of one user: each working namespace (clearWorking), then episodes and facts
   * (forgetUser). Working entries written meanwhile are reported back by forgetUser with their namespaces,
   * which are cleared in another round; the last round deletes whatever is still listed, so erasure always
   * finishes and no namespace ZSET keeps an id whose document is gone unless a remember raced every round.
   */
  async forgetUser(
    workspace: Tenant,
    actor: Actor,
    userId: string,
  ): Promise<{ working: number; episodic: number; semantic: number }> {
    const keys = [
      this.keys.docs(workspace),
      this.keys.vectors(workspace),
      this.keys.episodes(workspace),
      ...this.factKeys(workspace),
      ...this.bookkeepingKeys(workspace, userId),
    ];
    const total = { working: 0, episodic: 0, semantic: 0 };
    let namespaces = (await this.redis.zrange(this.keys.namespaces(workspace), '0', '-1')).filter((key) =>
      key.startsWith(`${userId}|`),
    );
    for (let round = 1; ; round++) {
      for (const key of namespaces)
        total.working += await this.clearWorking(workspace, actor, parseNamespaceKey(key));
      const last = round === ERASURE_ROUNDS;
      const [episodic, semantic, stray, pending] = await this.scripts.run<[number, number, number, string[]]>(
        'forgetUser',
        keys,
        [...this.events.contextArgs(workspace, actor), userId, last ? '1' : '0'],
      );
      total.episodic += episodic;
      total.semantic += semantic;
      total.working += stray;
      if (last || pending.length === 0) {
        // Erasure reaches the copies too: the snapshot held the user's memories.
        await this.dropIndexSnapshot(workspace);
        return total;
      }
      namespaces = pending;
    }
  }

  async setVectors(workspace: Tenant, embedder: string, vectors: Map<string, Float32Array>): Promise<number> {
    if (vectors.size === 0) return 0;
    const args: ScriptArg[] = [
      ...this.events.contextArgs(workspace, { type: 'system', id: 'embedder' }),
      embedder,
      vectors.size,
    ];
    for (const [id, vector] of vectors) args.push(id, vectorToBuffer(vector));
    return this.scripts.run<number>(
      'setVectors',
      [this.keys.docs(workspace), this.keys.vectors(workspace), this.keys.eventStream(workspace)],
      args,
    );
  }

  /** Workspaces visited by the expiry sweeper. */
  /** Tenants that have working entries with a TTL (their members were written as tenants). */
  async ttlWorkspaces(): Promise<Tenant[]> {
    const members = await this.redis.smembers(this.keys.ttlWorkspaces());
    return members.map(parseTenant).filter((t): t is Tenant => t !== undefined);
  }

  async forgetTtlWorkspace(workspace: Tenant): Promise<void> {
    await this.redis.srem(this.keys.ttlWorkspaces(), workspace);
  }

  async hasExpiringEntries(workspace: Tenant): Promise<boolean> {
    return (await this.redis.zcard(this.keys.workingExpiryIndex(workspace))) > 0;
  }

  /** Counts a background failure in the workspace stats (shown by GET /v1/stats). */
  async countFailure(workspace: Tenant, type: string): Promise<void> {
    const field = type === 'facts.extraction_failed' ? 'extraction_failures' : 'embedding_failures';
    await this.redis.hincrby(this.keys.stats(workspace), field, 1);
  }

  /**
   * One HSCAN page of a workspace's documents (any kind) with the byte length of each one's stored vector
   * (0 when it has none), for re-embedding. Cursor '0' starts; a returned cursor of '0' means done.
   */
  async scanEmbeddable(
    workspace: Tenant,
    cursor: string,
    count: number,
  ): Promise<{ cursor: string; docs: { id: string; text: string; vectorBytes: number }[] }> {
    const [next, flat] = await this.redis.hscan(this.keys.docs(workspace), cursor, 'COUNT', count);
    const docs: { id: string; text: string; vectorBytes: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      let content: unknown;
      try {
        content = (JSON.parse(flat[i + 1] as string) as { content?: unknown }).content;
      } catch {
        continue; // not a document this engine wrote
      }
      if (typeof content === 'string') docs.push({ id: flat[i] as string, text: content, vectorBytes: 0 });
    }
    if (docs.length > 0) {
      const pipeline = this.redis.pipeline();
      for (const doc of docs) pipeline.hstrlen(this.keys.vectors(workspace), doc.id);
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([err, length], i) => {
        if (err) throw err;
        (docs[i] as { vectorBytes: number }).vectorBytes = Number(length);
      });
    }
    return { cursor: next, docs };
  }

  /** Number of documents (any kind) a workspace holds. */
  async documentCount(workspace: Tenant): Promise<number> {
    return this.redis.hlen(this.keys.docs(workspace));
  }

  async get(workspace: Tenant, id: string): Promise<MemoryDoc | undefined> {
    const raw = await this.redis.hget(this.keys.docs(workspace), id);
    if (raw === null) return undefined;
    let doc: MemoryDoc | { layer: string };
    try {
      doc = JSON.parse(raw) as MemoryDoc | { layer: string };
    } catch {
      return undefined; // not a document this engine wrote
    }
    return doc.layer === 'working' || doc.layer === 'episodic' || doc.layer === 'semantic'
      ? (doc as MemoryDoc)
      : undefined;
  }

  async counts(workspace: Tenant): Promise<WorkspaceCounts> {
    const pipeline = this.redis.pipeline();
    pipeline.hgetall(this.keys.stats(workspace));
    pipeline.zrevrange(this.keys.agents(workspace), 0, 999);
    const [[, stats], [, agents]] = ((await pipeline.exec()) ?? []) as [
      [Error | null, Record<string, string>],
      [Error | null, string[]],
    ];
    const count = (name: string): number => Math.max(0, Number(stats[name] ?? 0));
    return {
      working: count('working'),
      episodic: count('episodic'),
      semantic: count('semantic'),
      extractionFailures: count('extraction_failures'),
      embeddingFailures: count('embedding_failures'),
      lastWrite: stats.last_write ?? null,
      agents,
    };
  }
}

function toFactOutcome([id, outcome, superseded]: FactReply): FactOutcome {
  return { id, outcome, superseded };
}
