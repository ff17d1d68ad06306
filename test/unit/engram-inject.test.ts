import { describe, expect, it } from 'vitest';
import { newEngramDoc, type NewEngram } from '../../src/memory/engrams/engram-doc.js';
import { countTokens } from 'gpt-tokenizer';
import {
  bucketOf,
  entryTokens,
  renderInjection,
  renderWithinBudget,
} from '../../src/memory/engrams/inject-render.js';
import {
  keywordHits,
  MIN_RELEVANCE,
  rankCandidates,
  selectWithinBudget,
  type InjectCandidate,
} from '../../src/memory/engrams/inject-selection.js';
import type { EngramDoc } from '../../src/memory/engrams/model.js';
import { tokenize } from '../../src/memory/search/tokenizer.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
let seq = 0;

function engram(
  fields: Partial<NewEngram> & { statement: string },
  extra: Partial<EngramDoc> = {},
): EngramDoc {
  seq++;
  const doc = newEngramDoc({
    type: 'architectural',
    scope: 'org:acme',
    status: 'active',
    domain: null,
    tags: [],
    rationale: null,
    pinned: false,
    commitment: 'decided',
    locked_reason: null,
    valid_from: null,
    valid_until: null,
    supersedes: [],
    source: null,
    session_id: null,
    ext: {},
    createdBy: 'u',
    now: new Date(NOW - 1000),
    ...fields,
  });
  return { ...doc, id: `ENG-2026-06-01-${String(seq).padStart(3, '0')}`, ...extra };
}

const query = (task: string) => ({ tokens: tokenize(task), historical: false, now: NOW });
const candidates = (...docs: EngramDoc[]): InjectCandidate[] => docs.map((doc) => ({ doc, cosine: null }));

describe('keyword score', () => {
  it('counts tags and domain segments found in the task, and task words in the statement', () => {
    const doc = engram({
      statement: 'Deploys must run database migrations first',
      tags: ['deploy'],
      domain: 'software.deployment',
    });
    const task = new Set(tokenize('deploy the service and run the migrations'));
    // tag "deploy" (+1); domain segments "software" and "deployment" are not task words (+0); task words
    // found in the statement after stemming: deploy, run, migrations (+0.5 each).
    expect(keywordHits(doc, task)).toBe(2.5);
    expect(keywordHits(doc, new Set(tokenize('deploy software deployment')))).toBe(1 + 2 + 0.5);
    expect(keywordHits(doc, new Set(tokenize('bake a cake')))).toBe(0);
  });
});

describe('ranking', () => {
  it('drops unrelated engrams below the relevance floor but keeps pinned ones in play', () => {
    const related = engram({ statement: 'Run database migrations before deploying' });
    const unrelated = engram({ statement: 'Lunch is served at noon' });
    const pinned = engram({ statement: 'Never force-push to main', pinned: true });
    const ranked = rankCandidates(
      candidates(related, unrelated, pinned),
      query('deploy with database migrations'),
    );
    const score = (d: EngramDoc) => ranked.find((r) => r.doc.id === d.id)?.score ?? -1;
    expect(score(related)).toBeGreaterThanOrEqual(MIN_RELEVANCE);
    expect(score(unrelated)).toBe(0);
    expect(score(pinned)).toBeGreaterThan(0);
  });

  it('weights by decayed strength and feedback, and discounts superseded engrams', () => {
    const strong = engram({ statement: 'Cache invalidation uses version tags' });
    const weak = engram(
      { statement: 'Cache invalidation uses version stamps' },
      { retrieval_strength: 0.2, feedback_signals: { positive: 0, negative: 3, neutral: 0 } },
    );
    const ranked = rankCandidates(candidates(weak, strong), query('cache invalidation version'));
    expect(ranked[0]?.doc.id).toBe(strong.id);
    const newer = engram({ statement: 'Cache invalidation uses version tags v2', supersedes: [strong.id] });
    const again = rankCandidates(candidates(strong, newer), query('cache invalidation version tags'));
    expect(again[0]?.doc.id).toBe(newer.id);
    const history = rankCandidates(candidates(strong, newer), {
      ...query('how did cache invalidation previously use version tags'),
      historical: true,
    });
    expect(history.find((r) => r.doc.id === strong.id)?.score).toBeGreaterThan(
      again.find((r) => r.doc.id === strong.id)?.score ?? 0,
    );
  });

  it('adds a cosine only to engrams that matched, or replaces a zero score when the cosine is above 0.5', () => {
    const doc = engram({ statement: 'Prefer composition over inheritance' });
    const [weak] = rankCandidates([{ doc, cosine: 0.4 }], query('unrelated words entirely'));
    expect(weak?.score).toBe(0);
    const [strong] = rankCandidates([{ doc, cosine: 0.8 }], query('unrelated words entirely'));
    expect(strong?.score).toBeCloseTo(1.6);
  });
});

describe('budget filling', () => {
  const pool = (): InjectCandidate[] =>
    [
      ...Array.from({ length: 6 }, (_, i) =>
        engram({ statement: `Pinned rule ${i} about deploys and release trains`, pinned: true }),
      ),
      ...Array.from({ length: 30 }, (_, i) =>
        engram({
          statement: `Deploy rule ${i}: release trains leave on ${i % 7} and need migration checks`,
          domain: i % 2 === 0 ? 'ops.deploy' : 'software.release',
          rationale: 'x'.repeat((i * 37) % 300),
        }),
      ),
    ].map((doc) => ({ doc, cosine: null }));

  for (const budget of [1, 50, 150, 300, 700, 1500, 2000, 5000]) {
    it(`never exceeds a budget of ${budget} tokens and keeps pinned engrams within half of it`, () => {
      const ranked = rankCandidates(pool(), query('deploy release trains with migration checks'));
      const selection = selectWithinBudget(ranked, { budget, maxEngrams: 100 });
      const pinnedCost = selection.selected
        .filter((s) => s.doc.pinned)
        .reduce((n, s) => n + entryTokens(s.doc), 0);
      const fullCost = selection.selected.reduce((n, s) => n + entryTokens(s.doc), 0);
      expect(selection.tokensUsed).toBeLessThanOrEqual(budget);
      expect(fullCost).toBeLessThanOrEqual(selection.tokensUsed);
      const rendered = renderWithinBudget(selection, budget);
      expect(rendered.tokens).toBe(countTokens(rendered.text));
      expect(rendered.tokens).toBeLessThanOrEqual(budget);
      expect(pinnedCost).toBeLessThanOrEqual(Math.floor(budget / 2));
      expect(selection.consider.length).toBeLessThanOrEqual(5);
      const ids = [...selection.selected, ...selection.consider].map((s) => s.doc.id);
      expect(new Set(ids).size).toBe(ids.length);
    });
  }

  it('puts pinned engrams first and caps each top-level domain at 10', () => {
    const ranked = rankCandidates(pool(), query('deploy release trains with migration checks'));
    const selection = selectWithinBudget(ranked, { budget: 100_000, maxEngrams: 100 });
    const firstUnpinned = selection.selected.findIndex((s) => !s.doc.pinned);
    expect(selection.selected.slice(0, firstUnpinned).every((s) => s.doc.pinned)).toBe(true);
    expect(selection.selected.filter((s) => s.doc.domain?.startsWith('ops')).length).toBe(10);
    expect(selection.selected.filter((s) => s.doc.domain?.startsWith('software')).length).toBe(10);
    expect(selection.consider.length).toBe(5);
  });

  it('respects max_engrams', () => {
    const ranked = rankCandidates(pool(), query('deploy release trains with migration checks'));
    const capped = selectWithinBudget(ranked, { budget: 100_000, maxEngrams: 3 });
    expect(capped.selected).toHaveLength(3);
    expect(capped.consider).toHaveLength(0);
  });
});

describe('rendering', () => {
  it('buckets by cognitive level and polarity, and sections the text', () => {
    const architectural = engram({
      statement: 'Services talk through the queue',
      rationale: 'decoupling',
      domain: 'arch',
    });
    const behavioral = engram({ statement: 'Always write the test first', type: 'behavioral' });
    const term = engram({ statement: 'An engram is a unit of learned knowledge', type: 'terminological' });
    const dont = engram({ statement: 'Do not deploy on Fridays', ext: { polarity: 'dont' } });
    expect(bucketOf(architectural)).toBe('directives');
    expect(bucketOf(behavioral)).toBe('constraints');
    expect(bucketOf(term)).toBe('consider');
    expect(bucketOf(dont)).toBe('constraints');
    const all = [architectural, behavioral, term, dont].map((doc) => ({ doc, cosine: null, score: 1 }));
    const rendered = renderInjection({ selected: all, consider: [], tokensUsed: 0 });
    expect(rendered.text).toMatch(
      /^## DIRECTIVES\n\[ENG-[\d-]+\] Services talk through the queue\n  Rationale: decoupling\n  Domain: arch \| Commitment: decided \| Confidence: 0\.45 \| Last verified: \d{4}-\d\d-\d\d\n\n## CONSTRAINTS\n/,
    );
    expect(rendered.constraints.split('\n')).toEqual([
      `[${behavioral.id}] ${behavioral.statement}`,
      `[${dont.id}] ${dont.statement}`,
    ]);
    expect(rendered.text).toContain(
      `## ALSO CONSIDER\n[${term.id}] An engram is a unit of learned knowledge`,
    );
    expect(rendered.ids).toEqual([architectural.id, behavioral.id, dont.id, term.id]);
  });

  it('drops the last one-liner, then the last engram, until the whole text fits the budget', () => {
    const docs = ['Services talk through the queue', 'Always write the test first', 'Ship on Tuesdays'].map(
      (statement) => ({ doc: engram({ statement, type: 'behavioral' }), cosine: null, score: 1 }),
    );
    const selection = { selected: docs.slice(0, 2), consider: docs.slice(2), tokensUsed: 0 };
    const full = renderWithinBudget(selection, 100_000);
    expect(full.ids).toHaveLength(3);
    expect(full.tokens).toBe(countTokens(full.text));
    const trimmed = renderWithinBudget(selection, full.tokens - 1);
    expect(trimmed.ids).toEqual(docs.slice(0, 2).map((d) => d.doc.id));
    expect(trimmed.tokens).toBe(countTokens(trimmed.text));
    expect(renderWithinBudget(selection, 1)).toMatchObject({ text: '', tokens: 0, ids: [] });
  });

  it('renders nothing for an empty selection', () => {
    expect(renderInjection({ selected: [], consider: [], tokensUsed: 0 })).toEqual({
      text: '',
      directives: '',
      constraints: '',
      consider: '',
      ids: [],
    });
  });
});
