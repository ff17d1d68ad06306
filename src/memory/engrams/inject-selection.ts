import { tokenize } from '../search/tokenizer.js';
import { decayedStrength, feedbackMultiplier, freshTailBoost } from './decay.js';
import { extOf } from './engram-doc.js';
import {
  bucketOf,
  considerTokens,
  entryTokens,
  SECTION_TOKENS,
  SEPARATOR_TOKENS,
  type Bucket,
} from './inject-render.js';
import type { EngramDoc } from './model.js';

/**
 * Which engrams an inject puts in front of an agent, and within what budget (plur.md §1.7). Pure: the
 * caller supplies candidates (active, valid, readable, with their cosine to the task when there is one).
 *
 * One deliberate difference from the reference: the cosine and fresh-tail boosts only raise engrams that
 * already matched the task (or a cosine above 0.5 on its own). Added to a zero score they would lift every
 * recent engram over the relevance floor and turn inject into "the latest N engrams".
 */
export const MIN_RELEVANCE = 0.3;
export const PINNED_BUDGET_SHARE = 0.5;
export const MAX_PER_DOMAIN = 10;
export const MAX_PER_PACK = 5;
export const CONSIDER_MAX = 5;
export const CONSIDER_TOKENS = 200;

export interface InjectCandidate {
  doc: EngramDoc;
  cosine: number | null;
}

export interface InjectQuery {
  /** Tokens of the task (tokenize()). */
  tokens: readonly string[];
  /** Whether the task asks about the past ("before", "previously"): superseded engrams keep their score. */
  historical: boolean;
  now: number;
}

export interface ScoredEngram extends InjectCandidate {
  score: number;
}

const HISTORICAL = /\b(before|previous(ly)?|used to|formerly|earlier|originally|history|historical|old)\b/i;
export const hasHistoricalIntent = (task: string): boolean => HISTORICAL.test(task);

/**
 * Tokens of an engram's tags, domain segments and statement. Index records are shared, long-lived objects
 * (replaced when the engram changes), so these are computed once per record, not once per inject.
 */
interface EngramTokens {
  tags: string[][];
  segments: string[][];
  statement: Set<string>;
}
const tokensOfDoc = new WeakMap<object, EngramTokens>();

function engramTokens(doc: EngramDoc): EngramTokens {
  let tokens = tokensOfDoc.get(doc);
  if (!tokens) {
    tokens = {
      tags: doc.tags.map((tag) => tokenize(tag)),
      segments: (doc.domain?.split(/[./]/) ?? []).map((segment) => tokenize(segment)),
      statement: new Set(tokenize(doc.statement)),
    };
    tokensOfDoc.set(doc, tokens);
  }
  return tokens;
}

/** termHits: +1 per tag and per domain segment present in the task, +0.5 per task word in the statement. */
export function keywordHits(doc: EngramDoc, taskTokens: ReadonlySet<string>): number {
  const allIn = (tokens: string[]): boolean => tokens.length > 0 && tokens.every((t) => taskTokens.has(t));
  const { tags, segments, statement } = engramTokens(doc);
  let hits = 0;
  for (const tag of tags) if (allIn(tag)) hits += 1;
  for (const segment of segments) if (allIn(segment)) hits += 1;
  for (const token of taskTokens) if (token.length > 2 && statement.has(token)) hits += 0.5;
  return hits;
}

/** Engram ids that an active candidate supersedes. */
export function supersededIds(candidates: readonly InjectCandidate[]): Set<string> {
  const ids = new Set<string>();
  for (const { doc } of candidates) for (const id of doc.supersedes) ids.add(id);
  return ids;
}

export function scoreCandidate(
  candidate: InjectCandidate,
  query: InjectQuery,
  taskTokens: ReadonlySet<string>,
  superseded: ReadonlySet<string>,
): number {
  const { doc, cosine } = candidate;
  let hits = keywordHits(doc, taskTokens);
  if (hits === 0 && doc.pinned) hits = 0.5;
  let score = hits * decayedStrength(doc, query.now);
  score *= feedbackMultiplier(doc.feedback_signals.positive, doc.feedback_signals.negative);
  if (doc.pinned) score *= 2;
  const weight = emotionalWeight(doc);
  if (weight !== undefined) score *= 1 + (weight - 5) * 0.04;
  if (cosine !== null) {
    if (score === 0 && cosine > 0.5) score = 2 * cosine;
    else if (score > 0) score += Math.max(0, cosine);
  }
  if (score > 0) score += freshTailBoost(doc, query.now);
  if (superseded.has(doc.id) && !query.historical) score *= 0.3;
  return score;
}

/** Scores every candidate, best first (ties: pinned, then newer). */
export function rankCandidates(candidates: readonly InjectCandidate[], query: InjectQuery): ScoredEngram[] {
  const taskTokens = new Set(query.tokens);
  const superseded = supersededIds(candidates);
  return candidates
    .map((c) => ({ ...c, score: scoreCandidate(c, query, taskTokens, superseded) }))
    .sort((a, b) => b.score - a.score || Number(b.doc.pinned) - Number(a.doc.pinned) || b.doc.ts - a.doc.ts);
}

export interface SelectionLimits {
  /** Token budget (real tokens of the rendered text); tokens_used never exceeds it. */
  budget: number;
  /** Engrams in the text at most, the one-liners included. */
  maxEngrams: number;
}

export interface Selection {
  /** Injected in full, best first: pinned ones, then the rest. */
  selected: ScoredEngram[];
  /** The next relevant ones, shown as one-liners. */
  consider: ScoredEngram[];
  /** Tokens of the entries and their framing, counted part by part (the text is counted again exactly). */
  tokensUsed: number;
}

/**
 * What the entries of a selection cost in tokens as it grows: each entry's own tokens, plus a section
 * heading for the first entry of a section and a separator for every further one.
 */
class SectionTally {
  private readonly entries = new Map<Bucket, number>();

  cost(bucket: Bucket, entry: number): number {
    const before = this.entries.get(bucket) ?? 0;
    if (before === 0) return entry + SECTION_TOKENS;
    return entry + (bucket === 'consider' ? SEPARATOR_TOKENS : 1);
  }

  add(bucket: Bucket): void {
    this.entries.set(bucket, (this.entries.get(bucket) ?? 0) + 1);
  }
}

/**
 * Fills the budget: pinned engrams first but within half of it, then relevant unpinned ones (at most 10 per
 * top-level domain and 5 per pack), skipping any that do not fit; then up to 5 more relevant ones as
 * one-liners within 200 tokens of what is left.
 */
export function selectWithinBudget(ranked: readonly ScoredEngram[], limits: SelectionLimits): Selection {
  const { budget, maxEngrams } = limits;
  const pinnedCap = Math.floor(budget * PINNED_BUDGET_SHARE);
  const selected: ScoredEngram[] = [];
  const taken = new Set<string>();
  const tally = new SectionTally();
  let used = 0;
  let pinnedUsed = 0;
  for (const item of ranked) {
    if (selected.length >= maxEngrams) break;
    if (!item.doc.pinned) continue;
    const bucket = bucketOf(item.doc);
    const cost = tally.cost(bucket, entryTokens(item.doc));
    if (pinnedUsed + cost > pinnedCap || used + cost > budget) continue;
    selected.push(item);
    taken.add(item.doc.id);
    tally.add(bucket);
    pinnedUsed += cost;
    used += cost;
  }
  const perDomain = new Map<string, number>();
  const perPack = new Map<string, number>();
  const relevant = ranked.filter((item) => !item.doc.pinned && item.score >= MIN_RELEVANCE);
  for (const item of relevant) {
    if (selected.length >= maxEngrams) break;
    const domain = topDomain(item.doc);
    const pack = packOf(item.doc);
    if (domain !== undefined && (perDomain.get(domain) ?? 0) >= MAX_PER_DOMAIN) continue;
    if (pack !== undefined && (perPack.get(pack) ?? 0) >= MAX_PER_PACK) continue;
    const bucket = bucketOf(item.doc);
    const cost = tally.cost(bucket, entryTokens(item.doc));
    if (used + cost > budget) continue;
    selected.push(item);
    taken.add(item.doc.id);
    tally.add(bucket);
    used += cost;
    if (domain !== undefined) perDomain.set(domain, (perDomain.get(domain) ?? 0) + 1);
    if (pack !== undefined) perPack.set(pack, (perPack.get(pack) ?? 0) + 1);
  }
  const consider: ScoredEngram[] = [];
  const considerBudget = Math.min(CONSIDER_TOKENS, budget - used);
  let considerUsed = 0;
  const considerMax = Math.min(CONSIDER_MAX, maxEngrams - selected.length);
  for (const item of relevant) {
    if (consider.length >= considerMax) break;
    if (taken.has(item.doc.id)) continue;
    const cost = tally.cost('consider', considerTokens(item.doc));
    if (considerUsed + cost > considerBudget) continue;
    consider.push(item);
    tally.add('consider');
    considerUsed += cost;
  }
  return { selected, consider, tokensUsed: used + considerUsed };
}

const topDomain = (doc: EngramDoc): string | undefined => doc.domain?.split(/[./]/)[0] || undefined;

function packOf(doc: EngramDoc): string | undefined {
  const pack = extOf(doc).pack;
  return typeof pack === 'string' && pack !== '' ? pack : undefined;
}

function emotionalWeight(doc: EngramDoc): number | undefined {
  const episodic = extOf(doc).episodic as { emotional_weight?: unknown } | undefined;
  const weight = episodic?.emotional_weight;
  return typeof weight === 'number' && weight >= 1 && weight <= 10 ? weight : undefined;
}
