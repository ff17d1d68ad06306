import { asString } from '../../fields.js';
import { engramSearchText, factSearchText, INTERNAL_DOC_FIELDS } from './search-text.js';

/**
 * What the search index keeps of a document. Every document in a workspace's docs HASH has an `id`, a
 * `layer` (its kind) and a `ts` (ms). The index reads documents from two places, Redis (on load) and event
 * data (on catch-up), which is the public shape without the internal fields: so the text to search is
 * derived from public fields (search-text.ts), and `record` (kept for filters and for building results
 * without Redis reads) is the public shape in both cases. A warm index and a fresh one hold the same.
 */
export const DOC_KINDS = ['working', 'episodic', 'semantic', 'engram'] as const;
export type DocKind = (typeof DOC_KINDS)[number];

export interface SearchDoc {
  id: string;
  kind: DocKind;
  text: string;
  ts: number;
  record: Record<string, unknown>;
}

/** Kind codes stored per slot (0 = free). */
export const KIND_CODE: Record<DocKind, number> = { working: 1, episodic: 2, semantic: 3, engram: 4 };

export function toSearchDoc(record: Record<string, unknown>): SearchDoc | undefined {
  const kind = record.layer;
  const id = record.id;
  if (typeof id !== 'string' || typeof kind !== 'string' || !(kind in KIND_CODE)) return undefined;
  const publicRecord = withoutInternalFields(record);
  return {
    id,
    kind: kind as DocKind,
    text: textOf(kind as DocKind, publicRecord),
    ts: typeof record.ts === 'number' ? record.ts : Date.parse(asString(record.created_at)) || 0,
    record: publicRecord,
  };
}

function textOf(kind: DocKind, record: Record<string, unknown>): string {
  if (kind === 'semantic' && typeof record.subject === 'string' && typeof record.object === 'string') {
    return factSearchText({
      subject: record.subject,
      predicate: asString(record.predicate),
      object: record.object,
    });
  }
  if (kind === 'engram' && typeof record.statement === 'string') {
    return engramSearchText({
      statement: record.statement,
      domain: typeof record.domain === 'string' ? record.domain : null,
      tags: Array.isArray(record.tags) ? record.tags.filter((t): t is string => typeof t === 'string') : [],
      rationale: typeof record.rationale === 'string' ? record.rationale : null,
    });
  }
  return typeof record.content === 'string' ? record.content : '';
}

/** The record without the fields that exist only for the server's indexes (the same object when none). */
export function withoutInternalFields(record: Record<string, unknown>): Record<string, unknown> {
  if (!INTERNAL_DOC_FIELDS.some((field) => field in record)) return record;
  const copy = { ...record };
  for (const field of INTERNAL_DOC_FIELDS) delete copy[field];
  return copy;
}
