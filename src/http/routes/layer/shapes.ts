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

/** One memory of any layer, as GET /v1/memory/{id} and recall return it. */
export const MemoryFields = {
  id: Type.String(),
  layer: LayerName,
  content: Type.String(),
  importance: Type.Number(),
  created_at: Timestamp(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  user_id: Nullable(Type.String()),
  agent_id: Nullable(Type.String()),
  session_id: Nullable(Type.String()),
  source_id: Nullable(Type.String({ description: 'For facts, the episode they were extracted from.' })),
  event: Type.Optional(Type.String({ description: 'Episode event type (episodic layer).' })),
  expires_at: Type.Optional(Nullable(Timestamp({ description: 'Working-entry expiry (working layer).' }))),
  fact: Type.Optional(FactFields),
};

/** The wire form of a stored memory document (any layer). */
export function memoryFields(record: Record<string, unknown>) {
  const layer = record.layer as 'working' | 'episodic' | 'semantic';
  const base = {
    id: asString(record.id),
    layer,
    content: asString(record.content),
    importance: asNumber(record.importance, 0.5),
    created_at: asString(record.created_at),
    metadata: (record.metadata as Record<string, unknown> | undefined) ?? {},
    user_id: asNullableString(record.user_id),
    agent_id: asNullableString(record.agent_id),
    session_id: asNullableString(record.session_id),
    source_id: asNullableString(record.source_episode_id),
  };
  if (layer === 'episodic') return { ...base, event: asString(record.event, 'agent_response') };
  if (layer === 'working') {
    const expires = record.expires_at;
    return { ...base, expires_at: typeof expires === 'number' ? new Date(expires).toISOString() : null };
  }
  return {
    ...base,
    fact: {
      subject: asString(record.subject),
      predicate: asString(record.predicate),
      object: asString(record.object),
      confidence: asNumber(record.confidence),
      status: record.status === 'superseded' ? ('superseded' as const) : ('current' as const),
      valid_from: asString(record.valid_from, base.created_at),
      valid_to: asNullableString(record.valid_to),
      superseded_by: asNullableString(record.superseded_by),
      source_episode_id: asNullableString(record.source_episode_id),
      confirmations: asNumber(record.confirmations, 1),
      extractor: asString(record.extractor, 'rules'),
    },
  };
}
