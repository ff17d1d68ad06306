import { createHash } from 'node:crypto';
import { normalizeStatement } from '../engrams/engram-doc.js';
import type { EngramDoc } from '../engrams/model.js';
import type { PackEngram } from './pack-engrams.js';

/**
 * Conflicts are reported, not blocked (plur.md §1.9): a pack engram contradicts a live engram of the
 * target scope when both have the same domain, opposite polarity (one says always/must, the other
 * never/avoid) and share at least two words of more than four characters.
 */
export interface PackConflict {
  statement: string;
  engram_id: string;
  existing_statement: string;
}

/** Reported per install at most (the rest are counted in no list: the client sees there are many). */
export const MAX_REPORTED_CONFLICTS = 100;

const NEGATIVE = /\b(never|avoid|don't|do not|must not|mustn't|should not|shouldn't|no longer)\b/;
const POSITIVE = /\b(always|must|should|prefer|use)\b/;

type Polarity = 'always' | 'never' | null;

function polarity(statement: string): Polarity {
  const text = statement.toLowerCase();
  if (NEGATIVE.test(text)) return 'never';
  if (POSITIVE.test(text)) return 'always';
  return null;
}

const longWords = (statement: string): Set<string> =>
  new Set(
    normalizeStatement(statement)
      .split(' ')
      .filter((w) => w.length > 4),
  );

export function findConflicts(
  engrams: readonly PackEngram[],
  existing: readonly EngramDoc[],
): PackConflict[] {
  const known = existing
    .map((doc) => ({ doc, polarity: polarity(doc.statement), words: longWords(doc.statement) }))
    .filter((k) => k.polarity !== null);
  const out: PackConflict[] = [];
  for (const engram of engrams) {
    const p = polarity(engram.statement);
    if (p === null) continue;
    const words = longWords(engram.statement);
    for (const k of known) {
      if (k.polarity === p || (k.doc.domain ?? null) !== engram.domain) continue;
      let shared = 0;
      for (const w of words) if (k.words.has(w)) shared++;
      if (shared < 2) continue;
      out.push({ statement: engram.statement, engram_id: k.doc.id, existing_statement: k.doc.statement });
      if (out.length >= MAX_REPORTED_CONFLICTS) return out;
    }
  }
  return out;
}

/** What "an installed engram was edited since" compares: the content a pack delivers. */
export function contentFingerprint(
  doc: Pick<EngramDoc, 'statement' | 'type' | 'domain' | 'tags' | 'rationale' | 'commitment'>,
): string {
  const content = [doc.statement, doc.type, doc.domain, [...doc.tags].sort(), doc.rationale, doc.commitment];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32);
}
