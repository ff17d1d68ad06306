import type { Logger } from '../log.js';
import type { EmbedItem, ExtractionRequest } from './background.js';
import type { Embedder } from './embedders/embedder.js';
import type { EventLog } from './event-log.js';
import { SYSTEM_ACTOR } from './events.js';
import { buildFact } from './facts/fact-builder.js';
import type { LlmExtractor } from './facts/llm-extractor.js';
import type { FactOutcome, MemoryStore } from './memory-store.js';
import { parseNamespaceKey } from './namespace.js';
import type { Tenant } from '../tenant.js';

/**
 * The work background jobs do, as domain operations (the job processors in src/jobs only call these):
 * embedding documents with a slow embedder, LLM fact extraction, recording a failed extraction, and
 * sweeping expired working entries.
 */
export class EnrichmentService {
  constructor(
    private readonly store: MemoryStore,
    private readonly events: EventLog,
    private readonly embedder: Embedder,
    private readonly extractor: LlmExtractor | undefined,
    private readonly sweepList: { workspaces(): Promise<Tenant[]>; forget(workspace: Tenant): Promise<void> },
    private readonly log: Logger,
  ) {}

  /** Embeds documents and stores their vectors (documents deleted meanwhile are skipped). */
  async embed(workspace: Tenant, items: EmbedItem[]): Promise<number> {
    if (items.length === 0) return 0;
    const vectors = await this.embedder.embed(items.map((i) => i.text));
    const byId = new Map<string, Float32Array>();
    items.forEach((item, i) => byId.set(item.id, vectors[i] as Float32Array));
    return this.store.setVectors(workspace, this.embedder.name, byId);
  }

  /** Runs the LLM extractor on an episode's text and stores what it finds. */
  async extractFacts(request: ExtractionRequest): Promise<FactOutcome[]> {
    if (!this.extractor) return [];
    const found = await this.extractor.extract(request.content);
    const now = new Date();
    const facts = found.map((fact) =>
      buildFact(fact, {
        ns: request.ns,
        sessionId: request.sessionId,
        sourceEpisodeId: request.episodeId,
        extractor: 'llm',
        now,
        importance: request.importance,
      }),
    );
    const vectors = new Map<string, Float32Array>();
    if (this.embedder.inline && facts.length > 0) {
      const embedded = await this.embedder.embed(facts.map((f) => f.doc.content));
      facts.forEach((f, i) => vectors.set(f.doc.id, embedded[i] as Float32Array));
    }
    const outcomes = await this.store.addFacts(
      request.workspace,
      request.actor,
      request.ns,
      facts,
      vectors,
      request.episodeId,
    );
    if (!this.embedder.inline) {
      const added = facts.filter((_, i) => outcomes[i]?.outcome === 'added');
      await this.embed(
        request.workspace,
        added.map((f) => ({ id: f.doc.id, text: f.doc.content })),
      );
    }
    return outcomes;
  }

  /** A job gave up: say so on the workspace stream, so the failure is visible and never silent. */
  async recordFailure(
    workspace: Tenant,
    type: 'facts.extraction_failed' | 'memory.embedding_failed',
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.events.append(workspace, SYSTEM_ACTOR, [{ type, data }]);
    await this.store.countFailure(workspace, type);
  }

  /** Expires due working entries in every workspace that has entries with a TTL. */
  async sweepExpired(now = new Date()): Promise<number> {
    let expired = 0;
    for (const workspace of await this.sweepList.workspaces()) {
      const due = await this.store.dueNamespaces(workspace, now);
      for (const key of due)
        expired += await this.store.expireWorking(workspace, parseNamespaceKey(key), now);
      if (due.length === 0 && !(await this.store.hasExpiringEntries(workspace)))
        await this.sweepList.forget(workspace);
    }
    if (expired > 0) this.log.debug({ expired }, 'expired working entries');
    return expired;
  }
}
