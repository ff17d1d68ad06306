import type { Commitment, EngramDoc } from './model.js';

/**
 * Strength and confidence as plur.md §1.7–1.8 define them. Decay is computed at read time and never stored:
 * only feedback moves the stored retrieval_strength.
 */
export const DAY_MS = 86_400_000;

/** Parsed dates: the same few thousand date strings are read on every inject. */
const parsedDates = new Map<string, number>();

function parseDate(when: string): number {
  let at = parsedDates.get(when);
  if (at === undefined) {
    at = Date.parse(when);
    if (parsedDates.size >= 100_000) parsedDates.clear();
    parsedDates.set(when, at);
  }
  return at;
}

/** Days from an ISO date or time to `now` (never negative; unparsable counts as now). */
export function daysSince(when: string | null | undefined, now: number): number {
  const at = when ? parseDate(when) : Number.NaN;
  return Number.isFinite(at) ? Math.max(0, (now - at) / DAY_MS) : 0;
}

/**
 * rs_eff = 0.05 + (rs − 0.05)·e^(−0.05·days since last access) — a half-life of about 13.9 days. Once no
 * positive feedback has arrived for 90 days, a further ×0.95 per month applies (not below 0.1); locked
 * engrams are exempt from that second rule.
 */
export function decayedStrength(
  doc: Pick<
    EngramDoc,
    'retrieval_strength' | 'last_accessed' | 'last_positive_at' | 'created_at' | 'commitment'
  >,
  now: number,
): number {
  const days = daysSince(doc.last_accessed ?? doc.created_at, now);
  let strength = 0.05 + (doc.retrieval_strength - 0.05) * Math.exp(-0.05 * days);
  if (doc.commitment !== 'locked') {
    const quiet = daysSince(doc.last_positive_at ?? doc.created_at, now);
    if (quiet > 90 && strength > 0.1) strength = Math.max(0.1, strength * 0.95 ** ((quiet - 90) / 30));
  }
  return strength;
}

/** Net feedback as a multiplier: up to +30% for praise, down to half for complaints. */
export function feedbackMultiplier(positive: number, negative: number): number {
  const net = positive - negative;
  if (net > 0) return 1 + Math.min(0.05 * net, 0.3);
  if (net < 0) return Math.max(1 + 0.1 * net, 0.5);
  return 1;
}

/** sigmoid(2·net/total·(1 − 1/(total+1))); 0.5 without feedback (plur.md §1.7 confidence_score). */
export function confidenceScore(positive: number, negative: number, neutral: number): number {
  const total = positive + negative + neutral;
  if (total === 0) return 0.5;
  const x = ((2 * (positive - negative)) / total) * (1 - 1 / (total + 1));
  return 1 / (1 + Math.exp(-x));
}

export const COMMITMENT_CONFIDENCE: Readonly<Record<Commitment, number>> = {
  locked: 1,
  decided: 0.9,
  leaning: 0.7,
  exploring: 0.5,
  draft: 0.5,
};

/** Fresh-tail boost: +0.2 on the day of creation, falling linearly to 0 over 7 days (exploring/leaning). */
export function freshTailBoost(doc: Pick<EngramDoc, 'created_at' | 'commitment'>, now: number): number {
  if (doc.commitment !== 'exploring' && doc.commitment !== 'leaning') return 0;
  return 0.2 * Math.max(0, 1 - daysSince(doc.created_at, now) / 7);
}

/**
 * Whether an engram's validity window contains `now`. A date-only bound covers its whole (UTC) day:
 * valid_until 2026-03-01 is still valid during March 1st.
 */
export function isValidAt(doc: Pick<EngramDoc, 'valid_from' | 'valid_until'>, now: number): boolean {
  const from = boundOf(doc.valid_from, false);
  const until = boundOf(doc.valid_until, true);
  return (from === undefined || now >= from) && (until === undefined || now < until);
}

function boundOf(value: string | null, end: boolean): number | undefined {
  if (!value) return undefined;
  const at = Date.parse(value);
  if (!Number.isFinite(at)) return undefined;
  return end && /^\d{4}-\d\d-\d\d$/.test(value) ? at + DAY_MS : at;
}
