import { createHash } from 'node:crypto';
import { engramSearchText } from '../search/search-text.js';
import {
  DEFAULT_RETRIEVAL_STRENGTH,
  DEFAULT_STORAGE_STRENGTH,
  type EngramContent,
  type EngramDoc,
  type EngramStatus,
} from './model.js';

/**
 * Building engram documents and turning them into the wire shapes of plur.md §1.3. The wire `data` object
 * is the engram model: unknown client fields first, then every known field (known fields win), then the
 * nested `activation` view; rows carry id/scope/status at the top level too.
 */

/** Lower case, only letters/digits/marks/underscore and single spaces (plur.md §1.5 content_hash). */
export function normalizeStatement(statement: string): string {
  return statement
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}_\s]+/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export const contentHash = (statement: string): string =>
  createHash('sha256').update(normalizeStatement(statement)).digest('hex');

/** What BM25 searches: statement, domain with dots and slashes as spaces, tags, rationale. */
export const searchText: (doc: Pick<EngramDoc, 'statement' | 'domain' | 'tags' | 'rationale'>) => string =
  engramSearchText;

/** The key of the per-scope duplicate index: same normalized statement in the same scope. */
export const dedupField = (scope: string, hash: string): string => `${scope}\n${hash}`;

export interface NewEngram extends EngramContent {
  ext: Record<string, unknown>;
  createdBy: string;
  now: Date;
}

/** A new engram document without its id (the create script assigns it). */
export function newEngramDoc(input: NewEngram): Omit<EngramDoc, 'id'> {
  const iso = input.now.toISOString();
  const fields = {
    statement: input.statement,
    domain: input.domain,
    tags: input.tags,
    rationale: input.rationale,
  };
  return {
    layer: 'engram',
    ts: input.now.getTime(),
    content: input.statement,
    search_text: searchText(fields),
    ext: JSON.stringify(input.ext),
    ...fields,
    type: input.type,
    scope: input.scope,
    status: input.status,
    pinned: input.pinned,
    commitment: input.commitment,
    locked_reason: input.locked_reason,
    valid_from: input.valid_from,
    valid_until: input.valid_until,
    supersedes: input.supersedes,
    source: input.source,
    session_id: input.session_id,
    content_hash: contentHash(input.statement),
    write_count: 1,
    retrieval_strength: DEFAULT_RETRIEVAL_STRENGTH,
    storage_strength: DEFAULT_STORAGE_STRENGTH,
    frequency: 0,
    last_accessed: null,
    feedback_signals: { positive: 0, negative: 0, neutral: 0 },
    last_positive_at: null,
    injection_count: 0,
    engram_version: 1,
    created_by: input.createdBy,
    created_at: iso,
    updated_at: iso,
  };
}

/** An engram document from Redis or from the search index's record, or undefined for anything else. */
export function parseEngramDoc(json: string): EngramDoc | undefined {
  try {
    return toEngramDoc(JSON.parse(json) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

/**
 * Checks the kind and fills what older or foreign writers may lack (arrays, counters), without copying a
 * document that is already complete (index records are read on every inject).
 */
/** Index records are long-lived and shared: their engram view is built once (treat it as read-only). */
const engramViews = new WeakMap<object, EngramDoc>();

export function toEngramDoc(record: Record<string, unknown>): EngramDoc | undefined {
  if (record.layer !== 'engram' || typeof record.id !== 'string') return undefined;
  let view = engramViews.get(record);
  if (!view) {
    view = completeEngramDoc(record);
    engramViews.set(record, view);
  }
  return view;
}

function completeEngramDoc(record: Record<string, unknown>): EngramDoc {
  const complete =
    Array.isArray(record.tags) &&
    Array.isArray(record.supersedes) &&
    typeof record.ext === 'string' &&
    typeof record.feedback_signals === 'object' &&
    record.feedback_signals !== null;
  if (complete) return record as unknown as EngramDoc;
  return {
    ...(record as unknown as EngramDoc),
    tags: Array.isArray(record.tags) ? (record.tags as string[]) : [],
    supersedes: Array.isArray(record.supersedes) ? (record.supersedes as string[]) : [],
    ext: typeof record.ext === 'string' ? record.ext : '{}',
    feedback_signals:
      typeof record.feedback_signals === 'object' && record.feedback_signals !== null
        ? (record.feedback_signals as EngramDoc['feedback_signals'])
        : { positive: 0, negative: 0, neutral: 0 },
  };
}

const parsedExt = new WeakMap<object, Record<string, unknown>>();

/** The client's unknown fields of a document (parsed once per document object; treat as read-only). */
export function extOf(doc: Pick<EngramDoc, 'ext'>): Record<string, unknown> {
  let ext = parsedExt.get(doc);
  if (!ext) {
    ext = {};
    try {
      const value = JSON.parse(doc.ext) as unknown;
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        ext = value as Record<string, unknown>;
    } catch {
      // a malformed ext string reads as no unknown fields
    }
    parsedExt.set(doc, ext);
  }
  return ext;
}

/** The engram model as clients see it (`data` of a row): unknown fields, then the model (which wins). */
export function wireData(doc: EngramDoc): WireData {
  return { ...extOf(doc), ...modelFields(doc) };
}

export type ModelFields = ReturnType<typeof modelFields>;
export type WireData = ModelFields & { [field: string]: unknown };

function modelFields(doc: EngramDoc) {
  return {
    id: doc.id,
    statement: doc.statement,
    type: doc.type,
    scope: doc.scope,
    status: doc.status,
    domain: doc.domain,
    tags: doc.tags,
    rationale: doc.rationale,
    pinned: doc.pinned,
    commitment: doc.commitment,
    locked_reason: doc.locked_reason,
    valid_from: doc.valid_from,
    valid_until: doc.valid_until,
    supersedes: doc.supersedes,
    source: doc.source,
    session_id: doc.session_id,
    content_hash: doc.content_hash,
    write_count: doc.write_count,
    retrieval_strength: doc.retrieval_strength,
    feedback_signals: doc.feedback_signals,
    activation: {
      retrieval_strength: doc.retrieval_strength,
      storage_strength: doc.storage_strength,
      frequency: doc.frequency,
      last_accessed: doc.last_accessed,
    },
    injection_count: doc.injection_count,
    engram_version: doc.engram_version,
    created_at: doc.created_at,
    updated_at: doc.updated_at,
  };
}

export interface EngramRow {
  id: string;
  scope: string;
  status: EngramStatus;
  data: WireData;
  created_at: string;
  updated_at: string;
}

/** A row of the REST contract: top-level id/scope/status win over data.* (they are equal here). */
export function engramRow(doc: EngramDoc): EngramRow {
  return {
    id: doc.id,
    scope: doc.scope,
    status: doc.status,
    data: wireData(doc),
    created_at: doc.created_at,
    updated_at: doc.updated_at,
  };
}
