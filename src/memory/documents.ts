/**
 * The documents kept in a workspace's docs HASH, one JSON object per id. Working entries and episodes are
 * immutable; a fact's status fields change when it is confirmed or superseded (in Lua, so fact documents
 * hold scalar fields only). Other faces add their own kinds (engrams) to the same HASH.
 */
export type Layer = 'working' | 'episodic' | 'semantic';
export const LAYERS: readonly Layer[] = ['working', 'episodic', 'semantic'];

interface BaseDoc {
  id: string;
  content: string;
  importance: number;
  /** ISO 8601 creation time, and the same in milliseconds for sorting and recency. */
  created_at: string;
  ts: number;
  user_id: string | null;
  agent_id: string | null;
  session_id: string | null;
  metadata: Record<string, unknown>;
}

export interface WorkingDoc extends BaseDoc {
  layer: 'working';
  source: string | null;
  /** Expiry in ms since the epoch; null keeps the entry until it is evicted or deleted. */
  expires_at: number | null;
}

export interface EpisodeDoc extends BaseDoc {
  layer: 'episodic';
  event: string;
  source: string | null;
  channel: string | null;
  tags: string[];
}

export interface FactDoc extends BaseDoc {
  layer: 'semantic';
  /** What the index searches: subject, object and words that questions about the predicate use. */
  search_text: string;
  subject: string;
  predicate: string;
  object: string;
  confidence: number;
  source_episode_id: string | null;
  valid_from: string;
  valid_to: string | null;
  status: 'current' | 'superseded';
  superseded_by: string | null;
  fingerprint: string;
  /** Supersession slots joined by "\n" (see facts/slots.ts). */
  slots: string;
  confirmations: number;
  last_confirmed: string | null;
  extractor: 'rules' | 'llm';
}

export type MemoryDoc = WorkingDoc | EpisodeDoc | FactDoc;

export const isLayer = (value: unknown): value is Layer =>
  value === 'working' || value === 'episodic' || value === 'semantic';
