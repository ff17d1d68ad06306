import { createHash } from 'node:crypto';
import { prefixedId } from '../../ids.js';
import type { FactDoc } from '../documents.js';
import { namespaceKey, type Namespace } from '../namespace.js';
import { factSearchText } from '../search/search-text.js';
import { tokenize } from '../search/tokenizer.js';
import { PREFERENCE, SINGLE_VALUED, type Predicate } from './predicates.js';

/** A fact as an extractor found it, before it becomes a document. */
export interface ExtractedFact {
  subject: string;
  predicate: Predicate;
  object: string;
  confidence: number;
}

export interface BuiltFact {
  doc: FactDoc;
  slots: string[];
}

/** Lower case, punctuation dropped, spaces collapsed: the form compared for duplicates. */
export function normalizeObject(object: string): string {
  return object
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** What a preference is about: the last meaningful word of its object ("dark mode" -> "mode"). */
function preferenceTarget(object: string): string {
  const tokens = tokenize(object);
  return tokens[tokens.length - 1] ?? normalizeObject(object);
}

/**
 * Supersession slots of a fact. A current fact holding one of the new fact's slots is superseded:
 * - single-valued predicates hold `<predicate>` (one city, one employer, one name);
 * - preferences hold `<predicate>|<target>` (light mode replaces dark mode) and `polarity|<object>`
 *   (disliking X replaces preferring X, and back).
 * Slots are scoped to the namespace and subject.
 */
export function slotsOf(ns: Namespace, fact: ExtractedFact): string[] {
  const scope = `${namespaceKey(ns)}\u001f${fact.subject.toLowerCase()}\u001f`;
  if (SINGLE_VALUED.has(fact.predicate)) return [scope + fact.predicate];
  if (PREFERENCE.has(fact.predicate)) {
    return [
      `${scope}${fact.predicate}|${preferenceTarget(fact.object)}`,
      `${scope}polarity|${normalizeObject(fact.object)}`,
    ];
  }
  return [];
}

export function fingerprintOf(ns: Namespace, fact: ExtractedFact): string {
  const text = [
    namespaceKey(ns),
    fact.subject.toLowerCase(),
    fact.predicate,
    normalizeObject(fact.object),
  ].join('\u001f');
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

export function buildFact(
  fact: ExtractedFact,
  context: {
    ns: Namespace;
    sessionId: string | null;
    sourceEpisodeId: string | null;
    extractor: 'rules' | 'llm';
    now: Date;
    importance: number;
  },
): BuiltFact {
  const slots = slotsOf(context.ns, fact);
  const iso = context.now.toISOString();
  return {
    slots,
    doc: {
      id: prefixedId('fact'),
      layer: 'semantic',
      content: `${fact.subject} ${fact.predicate} ${fact.object}`,
      search_text: factSearchText(fact),
      subject: fact.subject,
      predicate: fact.predicate,
      object: fact.object,
      confidence: Math.round(fact.confidence * 1000) / 1000,
      importance: context.importance,
      created_at: iso,
      ts: context.now.getTime(),
      user_id: context.ns.userId,
      agent_id: context.ns.agentId,
      session_id: context.sessionId,
      metadata: {},
      source_episode_id: context.sourceEpisodeId,
      valid_from: iso,
      valid_to: null,
      status: 'current',
      superseded_by: null,
      fingerprint: fingerprintOf(context.ns, fact),
      slots: slots.join('\n'),
      confirmations: 1,
      last_confirmed: null,
      extractor: context.extractor,
    },
  };
}
