/**
 * The engram model (plur.md §1.5) as stored here. An engram is a curated statement with a scope, a type, a
 * lifecycle status and feedback-driven strength. It lives in the workspace's docs HASH beside the layer
 * API's documents (`layer: "engram"`), so the same search index finds it.
 *
 * Stored documents hold every engram field flat, plus the search fields (`content`, `search_text`, `ts`) and
 * `ext`: the client's unknown fields as one JSON string. The engram object is open (unknown fields must
 * round-trip), and keeping them as an opaque string means Lua scripts that decode and re-encode documents
 * with cjson can never alter them (cjson turns `[]` into `{}` and rounds numbers).
 */
export const ENGRAM_TYPES = ['behavioral', 'terminological', 'procedural', 'architectural'] as const;
export type EngramType = (typeof ENGRAM_TYPES)[number];

export const ENGRAM_STATUSES = ['active', 'candidate', 'dormant', 'retired'] as const;
export type EngramStatus = (typeof ENGRAM_STATUSES)[number];

export const COMMITMENTS = ['exploring', 'leaning', 'decided', 'locked', 'draft'] as const;
export type Commitment = (typeof COMMITMENTS)[number];

export const FEEDBACK_SIGNALS = ['positive', 'negative', 'neutral'] as const;
export type FeedbackSignal = (typeof FEEDBACK_SIGNALS)[number];

/** New engrams start here (plur.md §1.5 activation defaults). */
export const DEFAULT_RETRIEVAL_STRENGTH = 0.7;
export const DEFAULT_STORAGE_STRENGTH = 1;

export interface FeedbackCounts {
  positive: number;
  negative: number;
  neutral: number;
}

/** What a client says about an engram (the rest of a stored engram is kept by the server). */
export interface EngramContent {
  statement: string;
  type: EngramType;
  scope: string;
  status: EngramStatus;
  domain: string | null;
  tags: string[];
  rationale: string | null;
  pinned: boolean;
  commitment: Commitment;
  locked_reason: string | null;
  valid_from: string | null;
  valid_until: string | null;
  supersedes: string[];
  source: string | null;
  session_id: string | null;
}

export interface EngramDoc extends EngramContent {
  id: string;
  layer: 'engram';
  /** Creation time in ms (search index ordering). */
  ts: number;
  /** The statement again, for the index's plain-text fallback. */
  content: string;
  /** statement + domain (dots as spaces) + tags + rationale (plur.md §1.6). */
  search_text: string;
  /** The client's unknown fields, as a JSON object string. */
  ext: string;

  content_hash: string;
  write_count: number;
  retrieval_strength: number;
  storage_strength: number;
  /** Recall count (activation.frequency). */
  frequency: number;
  /** Date (YYYY-MM-DD) of the last recall or feedback; null until then. */
  last_accessed: string | null;
  feedback_signals: FeedbackCounts;
  /** ISO time of the last positive feedback (drives the 90-day decay rule). */
  last_positive_at: string | null;
  injection_count: number;
  engram_version: number;

  /** User id of the author, or "admin" for the bootstrap admin key. */
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** Fields clients set; everything else in the model the server manages. */
export const CLIENT_FIELDS = [
  'statement',
  'type',
  'scope',
  'domain',
  'tags',
  'rationale',
  'pinned',
  'commitment',
  'locked_reason',
  'valid_from',
  'valid_until',
  'supersedes',
  'source',
] as const;
export type ClientField = (typeof CLIENT_FIELDS)[number];

/** Fields only the server writes; a request that sets one is refused (400) rather than silently ignored. */
export const SERVER_FIELDS: ReadonlySet<string> = new Set([
  'status',
  'content_hash',
  'write_count',
  'retrieval_strength',
  'storage_strength',
  'frequency',
  'last_accessed',
  'feedback_signals',
  'activation',
  'last_positive_at',
  'injection_count',
  'engram_version',
  'created_by',
  'created_at',
  'updated_at',
]);

/**
 * Status changes a PATCH may make. A candidate is promoted or dropped; an active engram can rest (dormant)
 * or be retired; a dormant one comes back or is retired; a retired one can only be restored to active.
 */
export const STATUS_TRANSITIONS: Readonly<Record<EngramStatus, readonly EngramStatus[]>> = {
  candidate: ['active', 'retired'],
  active: ['dormant', 'retired'],
  dormant: ['active', 'retired'],
  retired: ['active'],
};

export function canTransition(from: EngramStatus, to: EngramStatus): boolean {
  return from === to || STATUS_TRANSITIONS[from].includes(to);
}

/** Canonical engram ids (ENG-YYYY-MM-DD-NNN) and the other forms the model accepts (plur.md §1.5). */
export const ENGRAM_ID_PATTERN = '^(ENG|ABS|META)-[A-Za-z0-9-]{1,120}$';
const ENGRAM_ID = new RegExp(ENGRAM_ID_PATTERN);
export const isEngramId = (value: string): boolean => ENGRAM_ID.test(value);

/** UTC day of `date` as YYYY-MM-DD: the date part of new ids and the unit of last_accessed. */
export const dayOf = (date: Date): string => date.toISOString().slice(0, 10);

/** The canonical id for the n-th engram of a day: ENG-2026-03-01-007 (more digits past 999). */
export const formatEngramId = (day: string, n: number): string => `ENG-${day}-${String(n).padStart(3, '0')}`;
