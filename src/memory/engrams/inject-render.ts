import { countTokens } from 'gpt-tokenizer';
import { COMMITMENT_CONFIDENCE, confidenceScore } from './decay.js';
import { extOf } from './engram-doc.js';
import type { Selection } from './inject-selection.js';
import type { EngramDoc, EngramType } from './model.js';

/**
 * Renders an injection as the sectioned text agents read (plur.md §1.7 step 9):
 *   ## DIRECTIVES     `[ID] statement`, `  Rationale: ...`, `  Domain | Commitment | Confidence | Last verified`
 *   ## CONSTRAINTS    `[ID] statement`
 *   ## ALSO CONSIDER  `[ID] summary-or-60-chars` joined with " | "
 * Which section an engram lands in follows its cognitive level (explicit in its data, else the default of
 * its type) and polarity: remember/understand → consider; polarity "dont" or apply/analyze → constraints;
 * everything else → directives.
 *
 * Token counts are real ones (gpt-tokenizer, o200k, as /v1/context counts): each entry is counted once per
 * engram record (index records are shared between requests and replaced when the engram changes), and the
 * finished text is counted again as a whole, which is what tokens_used reports.
 */
export type Bucket = 'directives' | 'constraints' | 'consider';

const DEFAULT_LEVEL: Readonly<Record<EngramType, string>> = {
  behavioral: 'apply',
  terminological: 'remember',
  procedural: 'apply',
  architectural: 'evaluate',
};

export function bucketOf(doc: EngramDoc): Bucket {
  const ext = extOf(doc);
  const knowledge = ext.knowledge_type as { cognitive_level?: unknown } | undefined;
  const explicit = ext.cognitive_level ?? knowledge?.cognitive_level;
  const level = typeof explicit === 'string' ? explicit : DEFAULT_LEVEL[doc.type];
  if (level === 'remember' || level === 'understand') return 'consider';
  if (ext.polarity === 'dont') return 'constraints';
  if (level === 'apply' || level === 'analyze') return 'constraints';
  return 'directives';
}

/** The one-line form used in the ALSO CONSIDER section: `[ID] summary-or-60-chars`. */
export function considerLine(doc: EngramDoc): string {
  const summary = extOf(doc).summary;
  const text =
    typeof summary === 'string' && summary.trim() !== ''
      ? summary.trim()
      : doc.statement.length > 60
        ? `${doc.statement.slice(0, 59)}…`
        : doc.statement;
  return `[${doc.id}] ${text.replace(/\s+/g, ' ')}`;
}

function directiveBlock(doc: EngramDoc): string {
  const { positive, negative, neutral } = doc.feedback_signals;
  const confidence = confidenceScore(positive, negative, neutral) * COMMITMENT_CONFIDENCE[doc.commitment];
  const lines = [`[${doc.id}] ${doc.statement}`];
  if (doc.rationale) lines.push(`  Rationale: ${doc.rationale}`);
  lines.push(
    `  Domain: ${doc.domain ?? '-'} | Commitment: ${doc.commitment} | Confidence: ${confidence.toFixed(2)} | Last verified: ${(doc.last_accessed ?? doc.updated_at).slice(0, 10)}`,
  );
  return lines.join('\n');
}

/** The text an engram takes in its own section. */
export function entryText(doc: EngramDoc): string {
  const bucket = bucketOf(doc);
  if (bucket === 'directives') return directiveBlock(doc);
  if (bucket === 'constraints') return `[${doc.id}] ${doc.statement}`;
  return considerLine(doc);
}

const HEADINGS: Readonly<Record<Bucket, string>> = {
  directives: '## DIRECTIVES',
  constraints: '## CONSTRAINTS',
  consider: '## ALSO CONSIDER',
};

const entryTokenCache = new WeakMap<object, number>();
const considerTokenCache = new WeakMap<object, number>();

function cachedCount(cache: WeakMap<object, number>, doc: EngramDoc, text: () => string): number {
  let count = cache.get(doc);
  if (count === undefined) {
    count = countTokens(text());
    cache.set(doc, count);
  }
  return count;
}

/** Tokens of an engram injected in full (its entry in its section). */
export const entryTokens = (doc: EngramDoc): number =>
  cachedCount(entryTokenCache, doc, () => entryText(doc));

/** Tokens of an engram shown as a one-liner in ALSO CONSIDER. */
export const considerTokens = (doc: EngramDoc): number =>
  cachedCount(considerTokenCache, doc, () => considerLine(doc));

/**
 * Tokens the framing of a section adds: its heading with the blank line before it, and one separator per
 * further entry ("\n" between blocks, " | " between one-liners). Counted part by part this is an estimate
 * (the tokenizer may merge across a seam); renderWithinBudget counts the whole text exactly.
 */
export const SECTION_TOKENS = countTokens(`\n\n${HEADINGS.consider}\n`);
export const SEPARATOR_TOKENS = countTokens(' | ');

export interface RenderedInjection {
  text: string;
  directives: string;
  constraints: string;
  consider: string;
  /** Ids in the order they appear in the text. */
  ids: string[];
}

export function renderInjection(selection: Selection): RenderedInjection {
  const directives: string[] = [];
  const constraints: string[] = [];
  const consider: string[] = [];
  const ids: string[] = [];
  const lists: Record<Bucket, string[]> = { directives, constraints, consider };
  for (const { doc } of selection.selected) lists[bucketOf(doc)].push(entryText(doc));
  for (const { doc } of selection.consider) consider.push(considerLine(doc));
  // Ids follow the text's order: directives, constraints, then everything considered.
  const byBucket = (bucket: Bucket) => selection.selected.filter((s) => bucketOf(s.doc) === bucket);
  for (const s of [...byBucket('directives'), ...byBucket('constraints'), ...byBucket('consider')])
    ids.push(s.doc.id);
  for (const s of selection.consider) ids.push(s.doc.id);

  const sections = {
    directives: directives.join('\n'),
    constraints: constraints.join('\n'),
    consider: consider.join(' | '),
  };
  const text = (['directives', 'constraints', 'consider'] as const)
    .filter((bucket) => sections[bucket] !== '')
    .map((bucket) => `${HEADINGS[bucket]}\n${sections[bucket]}`)
    .join('\n\n');
  return { text, ...sections, ids };
}

/**
 * Renders a selection and counts the whole text; should the count exceed the budget (the selection's
 * part-by-part count is an estimate), the last one-liner, else the last engram, is dropped until it fits.
 * So `tokens` is the exact count of `text` and never exceeds the budget.
 */
export function renderWithinBudget(
  selection: Selection,
  budget: number,
): RenderedInjection & { tokens: number } {
  let current = selection;
  for (;;) {
    const rendered = renderInjection(current);
    const tokens = countTokens(rendered.text);
    if (tokens <= budget) return { ...rendered, tokens };
    current =
      current.consider.length > 0
        ? { ...current, consider: current.consider.slice(0, -1) }
        : { ...current, selected: current.selected.slice(0, -1) };
  }
}
