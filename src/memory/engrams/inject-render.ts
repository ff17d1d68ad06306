import { COMMITMENT_CONFIDENCE, confidenceScore } from './decay.js';
import { extOf } from './engram-doc.js';
import { considerLine, type Selection } from './inject-selection.js';
import type { EngramDoc, EngramType } from './model.js';

/**
 * Renders an injection as the sectioned text agents read (plur.md §1.7 step 9):
 *   ## DIRECTIVES     `[ID] statement`, `  Rationale: ...`, `  Domain | Commitment | Confidence | Last verified`
 *   ## CONSTRAINTS    `[ID] statement`
 *   ## ALSO CONSIDER  `[ID] summary-or-60-chars` joined with " | "
 * Which section an engram lands in follows its cognitive level (explicit in its data, else the default of
 * its type) and polarity: remember/understand → consider; polarity "dont" or apply/analyze → constraints;
 * everything else → directives.
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
  for (const { doc } of selection.selected) {
    const bucket = bucketOf(doc);
    if (bucket === 'directives') directives.push(directiveBlock(doc));
    else if (bucket === 'constraints') constraints.push(`[${doc.id}] ${doc.statement}`);
    else consider.push(considerLine(doc));
  }
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
  const text = [
    sections.directives && `## DIRECTIVES\n${sections.directives}`,
    sections.constraints && `## CONSTRAINTS\n${sections.constraints}`,
    sections.consider && `## ALSO CONSIDER\n${sections.consider}`,
  ]
    .filter((part) => part !== '')
    .join('\n\n');
  return { text, ...sections, ids };
}
