import { Type } from '@sinclair/typebox';
import { NAMESPACE_ID_PATTERN } from '../../../memory/namespace.js';
import { asNullableString, asNumber, asString } from '../../../fields.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';

/** Schemas shared by the layer API's memory routes. */
export const NamespaceId = (description: string) =>
  Type.String({
    pattern: NAMESPACE_ID_PATTERN,
    description: `${description} (1-128 of [A-Za-z0-9._:@+=/-])`,
  });

export const LayerName = StringEnum(['working', 'episodic', 'semantic']);

/** Fact fields of a semantic memory. */
export const FactFields = Type.Object(
  {
    subject: Type.String(),
    predicate: Type.String(),
    object: Type.String(),
    confidence: Type.Number(),
    status: StringEnum(['current', 'superseded']),
    valid_from: Timestamp(),
    valid_to: Nullable(Timestamp()),
    superseded_by: Nullable(Type.String()),
    source_episode_id: Nullable(Type.String()),
    confirmations: Type.Integer(),
    extractor: Type.String(),
  },
  { title: 'Fact' },
);

/**
 * What every memory has on the wire, in the reference server's field set: a strict client (the Plyra SDK's
 * `RankedMemory` forbids unknown fields and requires `source_id: str`) reads exactly these plus the scores.
 * `source_id` is the memory's own id on every layer, as the reference engine sends it.
 */
export const MemoryCoreFields = {
  id: Type.String(),
  layer: LayerName,
  content: Type.String(),
  importance: Type.Number(),
  created_at: Timestamp(),
  source_id: Type.String({ minLength: 1, description: "The memory's own id (as the reference server)." }),
  metadata: Type.Record(Type.String(), Type.Unknown()),
};

/** Detail groups beyond the core fields, each named once: what `include` accepts. */
export const MEMORY_DETAILS = ['namespace', 'event', 'expires_at', 'fact'] as const;
export type MemoryDetail = (typeof MEMORY_DETAILS)[number];

const only = (detail: MemoryDetail, what: string) =>
  `${what} Sent when ${detail} is asked for (recall: include; always on GET /v1/memory/{id}).`;

/** mnemo's detail fields; each appears only with its detail group (and event/expires_at/fact on their layer). */
export const MemoryDetailFields = {
  user_id: Type.Optional(Nullable(Type.String({ description: only('namespace', 'User of the memory.') }))),
  agent_id: Type.Optional(Nullable(Type.String({ description: only('namespace', 'Agent of the memory.') }))),
  session_id: Type.Optional(
    Nullable(Type.String({ description: only('namespace', 'Session of the memory.') })),
  ),
  event: Type.Optional(Type.String({ description: only('event', 'Episode event type (episodic layer).') })),
  expires_at: Type.Optional(
    Nullable(Timestamp({ description: only('expires_at', 'Working-entry expiry (working layer).') })),
  ),
  /** The triple (semantic layer), when fact is asked for. */
  fact: Type.Optional(FactFields),
};

/** One memory of any layer with every detail, as GET /v1/memory/{id} returns it. */
export const MemoryFields = { ...MemoryCoreFields, ...MemoryDetailFields };

/**
 * The wire form of a stored memory document (any layer): the core fields and the asked-for detail groups
 * (by default all of them).
 */
export function memoryFields(
  record: Record<string, unknown>,
  details: readonly MemoryDetail[] = MEMORY_DETAILS,
) {
  const layer = record.layer as 'working' | 'episodic' | 'semantic';
  const id = asString(record.id);
  const created_at = asString(record.created_at);
  const wanted = new Set(details);
  return {
    id,
    layer,
    content: asString(record.content),
    importance: asNumber(record.importance, 0.5),
    created_at,
    source_id: id,
    metadata: (record.metadata as Record<string, unknown> | undefined) ?? {},
    ...(wanted.has('namespace')
      ? {
          user_id: asNullableString(record.user_id),
          agent_id: asNullableString(record.agent_id),
          session_id: asNullableString(record.session_id),
        }
      : {}),
    ...(wanted.has('event') && layer === 'episodic'
      ? { event: asString(record.event, 'agent_response') }
      : {}),
    ...(wanted.has('expires_at') && layer === 'working' ? { expires_at: expiryOf(record.expires_at) } : {}),
    ...(wanted.has('fact') && layer === 'semantic' ? { fact: factOf(record, created_at) } : {}),
  };
}

const expiryOf = (expires: unknown): string | null =>
  typeof expires === 'number' ? new Date(expires).toISOString() : null;

function factOf(record: Record<string, unknown>, createdAt: string) {
  return {
    subject: asString(record.subject),
    predicate: asString(record.predicate),
    object: asString(record.object),
    confidence: asNumber(record.confidence),
    status: record.status === 'superseded' ? ('superseded' as const) : ('current' as const),
    valid_from: asString(record.valid_from, createdAt),
    valid_to: asNullableString(record.valid_to),
    superseded_by: asNullableString(record.superseded_by),
    source_episode_id: asNullableString(record.source_episode_id),
    confirmations: asNumber(record.confirmations, 1),
    extractor: asString(record.extractor, 'rules'),
  };
}
