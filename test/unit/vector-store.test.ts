import { describe, expect, it } from 'vitest';
import { assembleVectorDots } from '../../scripts/build-wasm.js';
import { VECTOR_DOTS_WASM_BASE64 } from '../../src/memory/search/simd/vector-dots.wasm.js';
import { TopK } from '../../src/memory/search/top-k.js';
import { VectorStore, normalize } from '../../src/memory/search/vector-store.js';

/** Deterministic pseudo-random unit vectors. */
function vectors(n: number, dim: number, seed = 7): Float32Array[] {
  let s = seed;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: n }, () => normalize(Float32Array.from({ length: dim }, rand)));
}

const exactCos = (a: Float32Array, b: Float32Array): number =>
  a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);

/** The reference: exact cosines, sorted. */
function bruteForce(
  data: Float32Array[],
  query: Float32Array,
  k: number,
  accept: (slot: number) => boolean,
  floor: number,
) {
  return data
    .map((v, slot) => ({ slot, score: exactCos(query, v) }))
    .filter((m) => accept(m.slot) && m.score > floor)
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

describe('TopK', () => {
  it('keeps the k best, best first', () => {
    const top = new TopK(3);
    [5, 1, 9, 3, 7, 2].forEach((score, slot) => top.push(slot, score));
    expect(top.sorted()).toEqual([
      { slot: 2, score: 9 },
      { slot: 4, score: 7 },
      { slot: 0, score: 5 },
    ]);
    expect(top.threshold).toBe(5);
  });
});

describe('vector store (WebAssembly SIMD scan)', () => {
  it('runs the module assembled from vector-dots.wat (the committed bytes are current)', async () => {
    expect(Buffer.from(await assembleVectorDots()).toString('base64')).toBe(VECTOR_DOTS_WASM_BASE64);
  });

  for (const [precision, dim, tolerance] of [
    ['float32', 64, 1e-5],
    ['int8', 64, 0.02],
    ['int8', 100, 0.02], // not a multiple of 16: rows are padded
    ['int8', 128, 0.02], // the builtin embedder's dimension: its own kernel (dotsI8x128)
    ['int8', 4096, 0.02], // the largest supported: the widened query fills half the query area
    ['float32', 30, 1e-5],
  ] as const) {
    it(`${precision}, ${dim} dimensions: finds what exact search finds, with cosines within ${tolerance}`, () => {
      const data = vectors(3000, dim);
      const store = new VectorStore(dim, precision, 64); // grows many times on the way
      data.forEach((v, slot) => store.set(slot, v));
      for (const q of [0, 42, 2999]) {
        const query = data[q] as Float32Array;
        const accept = (slot: number): boolean => slot % 3 !== 1;
        const found = store.nearest(query, 10, accept, { floor: 0 });
        const expected = bruteForce(data, query, 10, accept, 0);
        // int8 may swap near-ties: compare the sets of the clearly best and every cosine.
        expect(found[0]?.slot).toBe(expected[0]?.slot);
        for (const m of found)
          expect(m.score).toBeCloseTo(
            exactCos(query, data[m.slot] as Float32Array),
            precision === 'int8' ? 1 : 4,
          );
        for (const m of found)
          expect(Math.abs(m.score - exactCos(query, data[m.slot] as Float32Array))).toBeLessThan(tolerance);
        expect(found.length).toBe(10);
        expect(store.cosineAt(q, query)).toBeCloseTo(1, 1);
      }
    });
  }

  it('never returns removed slots and applies the floor', () => {
    const data = vectors(200, 32);
    const store = new VectorStore(32, 'int8');
    data.forEach((v, slot) => store.set(slot, v));
    const query = data[42] as Float32Array;
    store.remove(42);
    expect(store.nearest(query, 5, () => true, { floor: -1 }).map((m) => m.slot)).not.toContain(42);
    expect(store.size).toBe(199);
    expect(store.cosineAt(42, query)).toBeNull();
    for (const m of store.nearest(query, 50, () => true, { floor: 0.2 }))
      expect(m.score).toBeGreaterThan(0.2);
  });

  it("reads a candidate's cosine from the last scan only while that scan is current", () => {
    const data = vectors(100, 32);
    const store = new VectorStore(32, 'int8');
    data.forEach((v, slot) => store.set(slot, v));
    const query = data[7] as Float32Array;
    const [best] = store.nearest(query, 3, () => true, { floor: 0 });
    expect(best?.slot).toBe(7);
    expect(store.cosineAt(7, query)).toBe(best?.score);
    expect(store.cosineAt(8, query)).toBeCloseTo(exactCos(query, data[8] as Float32Array), 1);
    // The vector changes after the scan: the same query object must see the new vector.
    store.set(7, data[50] as Float32Array);
    expect(store.cosineAt(7, query)).toBeCloseTo(exactCos(query, data[50] as Float32Array), 1);
    store.remove(7);
    expect(store.cosineAt(7, query)).toBeNull();
  });

  it('refuses vectors of another dimension', () => {
    const store = new VectorStore(16, 'int8');
    store.set(0, new Float32Array(8).fill(1));
    expect(store.size).toBe(0);
  });
});
