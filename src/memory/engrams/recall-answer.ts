import { wireData, type ModelFields } from './engram-doc.js';
import type { EngramDoc } from './model.js';

/**
 * What POST /recall answers, built here so the recall service can keep the answer within the size the PLUR
 * client accepts. The client drops any recall answer over 128 KiB, and three dropped answers in a row open
 * its 5-minute circuit breaker (plur.md §1.3), so:
 *
 * - Each result is the engram at the top level (the #628 envelope the client reads first), every field
 *   once: no {id, scope, status, data, created_at, updated_at} row repeating five of them, and no
 *   top-level `retrieval_strength` next to `activation.retrieval_strength`. A field that is null is left
 *   out (the client's engram model has them optional, not nullable), and so are the row timestamps
 *   created_at/updated_at, which are not part of the engram model and which the client does not read
 *   (GET /engrams/{id} has them). Read the client's way, a result is the engram GET /engrams/{id} returns
 *   as `data`, minus those.
 * - The whole answer stays within RECALL_MAX_ANSWER_BYTES, the client's limit: should `limit` engrams not
 *   fit (long statements), the lowest-ranked results are left out and `truncated` says so, so the client
 *   gets the best ones instead of nothing. With 600-character statements, 100 results take about 125 KiB.
 */
export const RECALL_MAX_ANSWER_BYTES = 128 * 1024;

/** The model's fields that may be null, hence absent from a result. */
export const NULLABLE_FIELDS = [
  'domain',
  'rationale',
  'locked_reason',
  'valid_from',
  'valid_until',
  'source',
  'session_id',
] as const;
type NullableField = (typeof NULLABLE_FIELDS)[number];

/** Fields a result never carries (see above). */
type LeftOut = 'retrieval_strength' | 'created_at' | 'updated_at';

export type RecallResult = Omit<ModelFields, LeftOut | 'activation' | NullableField> & {
  [K in NullableField]?: string;
} & {
  activation: Omit<ModelFields['activation'], 'last_accessed'> & { last_accessed?: string };
  score: number;
  /** The client's own fields, returned as they were given. */
  [field: string]: unknown;
};

export interface RecallAnswer {
  results: RecallResult[];
  count: number;
  mode: 'hybrid' | 'hybrid-degraded' | 'keyword';
  requested_mode: 'hybrid' | 'keyword';
  vector: boolean;
  effective_scopes: string[];
  dropped_scopes: string[];
  truncated: boolean;
}

/** One engram as a recall result (see above). */
export function recallResult(doc: EngramDoc, score: number): RecallResult {
  const {
    retrieval_strength: _inActivation,
    created_at: _created,
    updated_at: _updated,
    activation,
    ...fields
  } = wireData(doc);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== null) out[key] = value;
  const { last_accessed, ...counters } = activation;
  out.activation = last_accessed === null ? counters : activation;
  out.score = score;
  return out as RecallResult;
}

const byteLength = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * How many of `ranked` (best first) fit in one answer with this envelope: the answer's bytes as JSON stay
 * within the maximum, each result measured as it will be sent, after the recall's own bookkeeping
 * (frequency + 1, last accessed `today`; touchEngrams-2.lua changes nothing else).
 */
export function resultsThatFit(
  ranked: readonly { doc: EngramDoc; score: number }[],
  envelope: Omit<RecallAnswer, 'results' | 'count' | 'truncated'>,
  today: string,
  maxBytes = RECALL_MAX_ANSWER_BYTES,
): number {
  // The count is at most three digits and truncated is widest as false: measure with those.
  let used = byteLength({ ...envelope, results: [], count: 100, truncated: false });
  for (let i = 0; i < ranked.length; i++) {
    const { doc, score } = ranked[i] as { doc: EngramDoc; score: number };
    const touched = { ...doc, frequency: doc.frequency + 1, last_accessed: today };
    used += byteLength(recallResult(touched, score)) + (i > 0 ? 1 : 0);
    if (used > maxBytes) return i;
  }
  return ranked.length;
}
