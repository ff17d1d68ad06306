import type { StoredEvent } from '../memory/events.js';

/**
 * One event as the event server needs it: the fields filters look at, taken out of the envelope once per
 * instance, and the envelope's JSON text exactly as the write script produced it. Sockets are sent that
 * text (or its UTF-8 bytes) unchanged, so no per-socket JSON work happens on the fan-out path.
 */
export interface EventView {
  id: string;
  type: string;
  /** Namespace of layer-memory events (`data.user_id`, `data.agent_id`); null when absent. */
  userId: string | null;
  agentId: string | null;
  /** Scope of engram events (`data.scope`); null when absent. */
  scope: string | null;
  /** Who started a session (`data.started_by` of session events); null when absent. */
  owner: string | null;
  json: string;
  /** UTF-8 of `json`, encoded once and shared by every socket it goes to (live events only). */
  bytes?: Buffer;
}

interface Envelope {
  id?: unknown;
  type?: unknown;
  data?: { user_id?: unknown; agent_id?: unknown; scope?: unknown; started_by?: unknown } | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function view(json: string, fallbackId?: string, fallbackType?: string): EventView | undefined {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(json) as Envelope;
  } catch {
    return undefined;
  }
  if (typeof envelope !== 'object' || envelope === null) return undefined;
  const id = text(envelope.id) ?? fallbackId;
  const type = text(envelope.type) ?? fallbackType;
  if (id === undefined || type === undefined) return undefined;
  const data = typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : {};
  return {
    id,
    type,
    userId: text(data.user_id),
    agentId: text(data.agent_id),
    scope: text(data.scope),
    owner: text(data.started_by),
    json,
  };
}

/** A view of an envelope published on the workspace channel, or undefined when it is not one. */
export function liveView(json: string): EventView | undefined {
  const parsed = view(json);
  if (parsed) parsed.bytes = Buffer.from(json, 'utf8');
  return parsed;
}

/** A view of an event read back from the workspace stream (its JSON is identical to the published one). */
export function storedView(event: StoredEvent): EventView {
  return (
    view(event.json, event.id, event.type) ?? {
      id: event.id,
      type: event.type,
      userId: null,
      agentId: null,
      scope: null,
      owner: null,
      json: event.json,
    }
  );
}
