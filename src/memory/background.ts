import type { Actor } from './events.js';
import type { Namespace } from './namespace.js';
import type { Tenant } from '../tenant.js';

/**
 * Slow work the memory engine hands off (port; src/jobs implements it with BullMQ queues): embedding
 * documents with a slow embedder, and LLM fact extraction. Enqueueing is durable in Redis; results
 * arrive as events (memory.embedded, memory.fact.added, facts.extraction_failed).
 */
export interface EmbedItem {
  id: string;
  text: string;
}

export interface ExtractionRequest {
  workspace: Tenant;
  actor: Actor;
  ns: Namespace;
  sessionId: string | null;
  episodeId: string;
  content: string;
  importance: number;
}

export interface BackgroundWork {
  embed(workspace: Tenant, items: EmbedItem[]): Promise<void>;
  /** Undefined when no LLM extractor is configured. */
  extractFacts?(request: ExtractionRequest): Promise<void>;
}
