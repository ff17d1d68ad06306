/**
 * The change events of a workspace. Every write script appends its events to the workspace stream and
 * publishes the envelope in the same atomic step (lua/includes/appendEvent.lua); the WebSocket stream,
 * index catch-up and webhooks all read them.
 *
 * Envelope: {id (stream id), type, ts (ISO 8601), workspace, actor {type, id}, data}.
 */
import { ENGRAM_EVENT_TYPES } from './engrams/engram-events.js';
import { WEBHOOK_EVENT_TYPES } from './webhooks/webhook-events.js';

export interface Actor {
  type: 'api_key' | 'user' | 'admin' | 'system' | 'scim';
  id: string;
}

export interface EventEnvelope<D = Record<string, unknown>> {
  id: string;
  type: string;
  ts: string;
  workspace: string;
  actor: Actor;
  data: D;
}

/** One event as stored: its id, its type, and the envelope as the JSON text subscribers receive. */
export interface StoredEvent {
  id: string;
  type: string;
  json: string;
}

/** Event types by family; `<family>.*` filters match a prefix. Faces add their own types to this list. */
export const EVENT_TYPES = [
  // layer memory (src/memory)
  'memory.working.added',
  'memory.episode.added',
  'memory.fact.added',
  'memory.fact.superseded',
  'memory.fact.confirmed',
  'memory.deleted',
  'memory.embedded',
  'memory.forgotten',
  'working.evicted',
  'working.expired',
  'working.cleared',
  'facts.extraction_failed',
  // engram API (src/memory/engrams/engram-events.ts)
  ...ENGRAM_EVENT_TYPES,
  // webhooks of either face (src/memory/webhooks/webhook-events.ts)
  ...WEBHOOK_EVENT_TYPES,
] as const;

export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'mnemo' };

/** Rebuilds the envelope JSON of a stream entry: identical to what the write script published. */
export function envelopeJson(id: string, body: string): string {
  return `{"id":"${id}",${body}`;
}

/** Compares two stream ids ("<ms>-<seq>"): negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = Number(am) - Number(bm);
  return ms !== 0 ? ms : Number(as) - Number(bs);
}

/** Stream ids are "<ms>-<seq>"; "$" (now) is accepted where a position is expected. */
export const STREAM_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;
