import { describe, expect, it } from 'vitest';
import { queryEntities } from '../../src/memory/search/entities.js';
import { passesFloor, recencyOf, scoreOf, similarityOf } from '../../src/memory/scoring.js';

describe('query entities', () => {
  it('takes capitalised words that do not start a sentence', () => {
    expect(queryEntities('What did Caroline say about Python?')).toEqual(['carolin', 'python']);
    expect(queryEntities('When is the meeting? Ask Bob.')).toEqual(['bob']);
    expect(queryEntities('where do I live')).toEqual([]);
  });
});

describe('similarity and score', () => {
  const both = { lexical: true, vector: true };
  it('blends the legs by the embedder weight and uses each leg alone when only it ran', () => {
    const c = { bm25Norm: 0.8, cosine: 0.4, mentionsEntity: true };
    expect(similarityOf(c, both, 0.5)).toBeCloseTo(0.6);
    expect(similarityOf(c, both, 0.2)).toBeCloseTo(0.72);
    expect(similarityOf(c, { lexical: true, vector: false }, 0.5)).toBe(0.8);
    expect(similarityOf(c, { lexical: false, vector: true }, 0.5)).toBe(0.4);
  });

  it('halves the similarity of a memory that mentions none of the query names', () => {
    expect(similarityOf({ bm25Norm: 0.8, cosine: 0.4, mentionsEntity: false }, both, 0.5)).toBeCloseTo(0.3);
  });

  it('keeps in hybrid whatever the lexical leg alone keeps, and nothing on a cosine alone', () => {
    const weakWord = { bm25Norm: 0.13, cosine: 0.05, mentionsEntity: true };
    const blended = similarityOf(weakWord, both, 0.2); // 0.114: under the floor by the blend alone
    expect(blended).toBeLessThan(0.12);
    expect(passesFloor(weakWord, both, blended, 0.12)).toBe(true);
    expect(passesFloor(weakWord, { lexical: false, vector: true }, 0.05, 0.12)).toBe(false);
    const cosineOnly = { bm25Norm: 0, cosine: 0.3, mentionsEntity: true };
    expect(passesFloor(cosineOnly, both, similarityOf(cosineOnly, both, 0.2), 0.12)).toBe(false);
    expect(passesFloor(cosineOnly, both, similarityOf(cosineOnly, both, 0.5), 0.12)).toBe(true);
    const unnamed = { bm25Norm: 0.2, cosine: 0.1, mentionsEntity: false }; // halved: 0.1 lexically
    expect(passesFloor(unnamed, both, similarityOf(unnamed, both, 0.2), 0.12)).toBe(false);
  });

  it('never lets a negative cosine subtract', () => {
    expect(similarityOf({ bm25Norm: 0.5, cosine: -0.9, mentionsEntity: true }, both, 0.5)).toBeCloseTo(0.25);
  });

  it('scores 0.5 similarity + 0.3 recency + 0.2 importance, capped at 1', () => {
    const w = { similarity: 0.5, recency: 0.3, importance: 0.2 };
    expect(scoreOf(0.9, 1, 0.5, w)).toBeCloseTo(0.85);
    expect(scoreOf(1, 1, 1, { similarity: 1, recency: 1, importance: 1 })).toBe(1);
  });

  it('decays recency with a half-life of about 13.9 hours', () => {
    expect(recencyOf(0, 0, 0.05)).toBe(1);
    expect(recencyOf(0, 13.86 * 3_600_000, 0.05)).toBeCloseTo(0.5, 2);
  });
});
