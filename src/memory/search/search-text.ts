import { PREDICATE_GLOSS, type Predicate } from '../facts/predicates.js';

/**
 * What BM25 searches in each kind of document, derived from its public fields only. Stored documents keep
 * the result as `search_text`, but events carry the public shape without it (docs/EVENTS.md), so the index
 * derives the text the same way from either: one function per kind, used by the writers and the index.
 */
export function factSearchText(fact: { subject: string; predicate: string; object: string }): string {
  const gloss = PREDICATE_GLOSS[fact.predicate as Predicate] ?? fact.predicate;
  return `${fact.subject} ${fact.object} ${gloss}`;
}

/** Engrams: statement, domain with dots and slashes as spaces, tags, rationale. */
export function engramSearchText(doc: {
  statement: string;
  domain?: string | null | undefined;
  tags: readonly string[];
  rationale?: string | null | undefined;
}): string {
  return [doc.statement, doc.domain?.replace(/[./]/g, ' ') ?? '', doc.tags.join(' '), doc.rationale ?? '']
    .filter((part) => part !== '')
    .join('\n');
}

/** Fields of stored documents that exist only for the server's own indexes; never in event data. */
export const INTERNAL_DOC_FIELDS = ['search_text', 'fingerprint', 'slots'] as const;
