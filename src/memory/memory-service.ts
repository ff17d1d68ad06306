import { prefixedId } from '../ids.js';
import type { BackgroundWork } from './background.js';
import type { EpisodeDoc, FactDoc, MemoryDoc, WorkingDoc } from './documents.js';
import type { Embedder } from './embedders/embedder.js';
import { episodeEventFor } from './episode-events.js';
import type { Actor } from './events.js';
import { buildFact, type BuiltFact } from './facts/fact-builder.js';
import { extractFacts } from './facts/rule-extractor.js';
import type { MemoryStore, WorkspaceCounts } from './memory-store.js';
import type { Namespace } from './namespace.js';
import type { Tenant } from '../tenant.js';

/**
 * The layer API's write side: remember (all three layers at once), deletion, erasure and counts. Policy
 * lives here (ids, TTL defaults, capacity, which embedder runs where); atomicity lives in the Lua scripts.
 */
export interface RememberInput {
  workspace: Tenant;
  actor: Actor;
  ns: Namespace;
  content: string;
  importance: number;
  metadata: Record<string, unknown>;
  sessionId: string | null;
  source: string | null;
  event: string | null;
  /** Working-entry TTL; undefined = the configured default; 0 = keep. */
  ttlSeconds?: number | undefined;
  /** When it happened, for imports of past conversations; default now. TTLs still count from now. */
  at?: Date | undefined;
}

export interface RememberedFact {
  doc: FactDoc;
  outcome: 'added' | 'confirmed';
  superseded: string[];
}

export interface RememberResult {
  working: WorkingDoc;
  episode: EpisodeDoc;
  facts: RememberedFact[];
  evicted: string[];
  /**
   * Fact extraction done for this memory: `rules` ran in the request (on every remember), `llm` was queued
   * as a background job (when an LLM extractor is configured).
   */
  extraction: FactExtraction[];
}

export type FactExtraction = 'rules' | 'llm';

export interface MemoryPolicy {
  workingCapacity: number;
  workingTtlSeconds: number;
}

export class MemoryService {
  constructor(
    private readonly store: MemoryStore,
    private readonly embedder: Embedder,
    private readonly background: BackgroundWork,
    private readonly policy: MemoryPolicy,
  ) {}

  async remember(input: RememberInput): Promise<RememberResult> {
    const now = new Date();
    const at = input.at ?? now;
    const ttl = input.ttlSeconds ?? this.policy.workingTtlSeconds;
    const common = {
      content: input.content,
      importance: input.importance,
      created_at: at.toISOString(),
      ts: at.getTime(),
      user_id: input.ns.userId,
      agent_id: input.ns.agentId,
      session_id: input.sessionId,
      metadata: input.metadata,
      source: input.source,
    };
    const working: WorkingDoc = {
      id: prefixedId('wm'),
      layer: 'working',
      ...common,
      expires_at: ttl > 0 ? now.getTime() + ttl * 1000 : null,
    };
    const episode: EpisodeDoc = {
      id: prefixedId('ep'),
      layer: 'episodic',
      ...common,
      event: episodeEventFor(input.event ?? undefined, input.source ?? undefined),
      channel: null,
      tags: [],
    };
    const facts: BuiltFact[] = extractFacts(input.content).map((fact) =>
      buildFact(fact, {
        ns: input.ns,
        sessionId: input.sessionId,
        sourceEpisodeId: episode.id,
        extractor: 'rules',
        now: at,
        importance: input.importance,
      }),
    );

    const vectors = new Map<string, Float32Array>();
    if (this.embedder.inline) {
      const embedded = await this.embedder.embed([input.content, ...facts.map((f) => f.doc.content)]);
      const contentVector = embedded[0] as Float32Array;
      vectors.set(working.id, contentVector);
      vectors.set(episode.id, contentVector);
      facts.forEach((f, i) => vectors.set(f.doc.id, embedded[i + 1] as Float32Array));
    }

    const outcome = await this.store.remember({
      workspace: input.workspace,
      actor: input.actor,
      ns: input.ns,
      capacity: this.policy.workingCapacity,
      now,
      working,
      episode,
      facts,
      vectors,
    });

    const remembered: RememberedFact[] = outcome.facts.map((result, i) => {
      const built = facts[i] as BuiltFact;
      return {
        doc: result.outcome === 'confirmed' ? { ...built.doc, id: result.id } : built.doc,
        outcome: result.outcome,
        superseded: result.superseded,
      };
    });

    if (!this.embedder.inline) {
      const items = [
        { id: working.id, text: working.content },
        { id: episode.id, text: episode.content },
        ...remembered
          .filter((f) => f.outcome === 'added')
          .map((f) => ({ id: f.doc.id, text: f.doc.content })),
      ];
      await this.background.embed(input.workspace, items);
    }
    const extraction: FactExtraction[] = ['rules'];
    if (this.background.extractFacts) {
      await this.background.extractFacts({
        workspace: input.workspace,
        actor: input.actor,
        ns: input.ns,
        sessionId: input.sessionId,
        episodeId: episode.id,
        content: input.content,
        importance: input.importance,
      });
      extraction.push('llm');
    }
    return { working, episode, facts: remembered, evicted: outcome.evicted, extraction };
  }

  get(workspace: Tenant, id: string): Promise<MemoryDoc | undefined> {
    return this.store.get(workspace, id);
  }

  clearWorking(workspace: Tenant, actor: Actor, ns: Namespace): Promise<number> {
    return this.store.clearWorking(workspace, actor, ns);
  }

  deleteMemory(workspace: Tenant, actor: Actor, id: string): Promise<MemoryDoc | undefined> {
    return this.store.deleteMemory(workspace, actor, id);
  }

  forgetUser(workspace: Tenant, actor: Actor, userId: string) {
    return this.store.forgetUser(workspace, actor, userId);
  }

  counts(workspace: Tenant): Promise<WorkspaceCounts> {
    return this.store.counts(workspace);
  }
}
