import { describe, expect, it } from 'vitest';
import {
  confidenceScore,
  DAY_MS,
  decayedStrength,
  feedbackMultiplier,
  freshTailBoost,
  isValidAt,
} from '../../src/memory/engrams/decay.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW - d * DAY_MS).toISOString();
const base = {
  retrieval_strength: 0.7,
  last_accessed: null,
  last_positive_at: null,
  created_at: daysAgo(0),
  commitment: 'leaning' as const,
};

describe('decay (plur.md §1.8)', () => {
  it('is exponential from the last access with a half-life of ~13.9 days toward 0.05', () => {
    expect(decayedStrength(base, NOW)).toBeCloseTo(0.7, 10);
    const halfLife = Math.log(2) / 0.05;
    const at = decayedStrength({ ...base, created_at: new Date(NOW - halfLife * DAY_MS).toISOString() }, NOW);
    expect(at).toBeCloseTo(0.05 + 0.65 / 2, 6);
    expect(
      decayedStrength({ ...base, last_accessed: daysAgo(10), created_at: daysAgo(80) }, NOW),
    ).toBeCloseTo(0.05 + 0.65 * Math.exp(-0.5), 6);
  });

  it('decays a further 5% a month after 90 days without positive feedback, not below 0.1, not when locked', () => {
    const old = { ...base, last_accessed: daysAgo(0), created_at: daysAgo(150) };
    expect(decayedStrength(old, NOW)).toBeCloseTo(0.7 * 0.95 ** 2, 6);
    expect(decayedStrength({ ...old, commitment: 'locked' }, NOW)).toBeCloseTo(0.7, 6);
    expect(decayedStrength({ ...old, last_positive_at: daysAgo(10) }, NOW)).toBeCloseTo(0.7, 6);
    const ancient = { ...base, last_accessed: daysAgo(0), created_at: daysAgo(3000) };
    expect(decayedStrength(ancient, NOW)).toBe(0.1);
  });

  it('feedback multiplies: +5% per net positive up to +30%, -10% per net negative down to half', () => {
    expect(feedbackMultiplier(0, 0)).toBe(1);
    expect(feedbackMultiplier(2, 0)).toBeCloseTo(1.1);
    expect(feedbackMultiplier(20, 0)).toBeCloseTo(1.3);
    expect(feedbackMultiplier(1, 3)).toBeCloseTo(0.8);
    expect(feedbackMultiplier(0, 20)).toBe(0.5);
  });

  it('confidence is 0.5 without feedback and leans with it', () => {
    expect(confidenceScore(0, 0, 0)).toBe(0.5);
    expect(confidenceScore(3, 0, 0)).toBeCloseTo(1 / (1 + Math.exp(-2 * 0.75)), 10);
    expect(confidenceScore(0, 3, 0)).toBeLessThan(0.5);
  });

  it('gives new exploring/leaning engrams a fading fresh-tail boost', () => {
    expect(freshTailBoost({ created_at: daysAgo(0), commitment: 'leaning' }, NOW)).toBeCloseTo(0.2);
    expect(freshTailBoost({ created_at: daysAgo(3.5), commitment: 'exploring' }, NOW)).toBeCloseTo(0.1);
    expect(freshTailBoost({ created_at: daysAgo(8), commitment: 'leaning' }, NOW)).toBe(0);
    expect(freshTailBoost({ created_at: daysAgo(0), commitment: 'decided' }, NOW)).toBe(0);
  });

  it('honours the validity window, a date-only end covering its whole day', () => {
    expect(isValidAt({ valid_from: null, valid_until: null }, NOW)).toBe(true);
    expect(isValidAt({ valid_from: '2026-06-02', valid_until: null }, NOW)).toBe(false);
    expect(isValidAt({ valid_from: '2026-06-01', valid_until: '2026-06-01' }, NOW)).toBe(true);
    expect(isValidAt({ valid_from: null, valid_until: '2026-05-31' }, NOW)).toBe(false);
    expect(isValidAt({ valid_from: null, valid_until: '2026-06-01T11:59:59Z' }, NOW)).toBe(false);
  });
});
