import { asString } from '../../fields.js';

/**
 * What the search index keeps of a stored document. Every document in a workspace's docs HASH has an
 * `id`, a `layer` (its kind), a `ts` (ms) and the text to search in `search_text` or else `content`;
 * the whole stored object is kept as `record` for filters and for building results without Redis reads.
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
  const text = typeof record.search_text === 'string' ? record.search_text : record.content;
  return {
    id,
    kind: kind as DocKind,
    text: typeof text === 'string' ? text : '',
    ts: typeof record.ts === 'number' ? record.ts : Date.parse(asString(record.created_at)) || 0,
    record,
  };
}
