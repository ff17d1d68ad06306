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

describe('vector store: binary prefilter with int8 rescoring', () => {
  const dim = 64;
  const data = vectors(3000, dim, 11);
  const exactStore = new VectorStore(dim, 'int8');
  data.forEach((v, slot) => exactStore.set(slot, v));
  const prefiltered = (candidates: number): VectorStore => {
    const store = new VectorStore(dim, 'int8', 64, { minVectors: 1, candidates });
    data.forEach((v, slot) => store.set(slot, v));
    return store;
  };
  const all = (): boolean => true;

  it('scores the rows it keeps exactly as the full int8 scan does, and finds most of its top 10', () => {
    const store = prefiltered(600);
    let hits = 0;
    for (const q of [0, 5, 77, 1234, 2999]) {
      const query = data[q] as Float32Array;
      const found = store.nearest(query, 10, all, { floor: 0 });
      const expected = exactStore.nearest(query, 10, all, { floor: 0 });
      expect(found).toHaveLength(10);
      // The query's own row agrees in every sign: it is always kept, and first.
      expect(found[0]?.slot).toBe(q);
      for (const m of found) {
        exactStore.nearest(query, 1, all, { floor: -1 }); // makes cosineAt read the full scan's scores
        expect(m.score).toBe(exactStore.cosineAt(m.slot, query));
        expect(store.cosineAt(m.slot, query)).toBe(m.score);
      }
      const keep = new Set(found.map((m) => m.slot));
      hits += expected.filter((m) => keep.has(m.slot)).length;
    }
    // Random dense vectors, a fifth of the rows rescored: 48 of 50 here; a broken code would not
    // get near it (a random fifth finds 10 of 50 on average).
    expect(hits).toBeGreaterThanOrEqual(40);
  });

  it('equals the full scan when it keeps every row, and when too few kept rows pass the filter', () => {
    const everything = prefiltered(5000);
    const few = prefiltered(200);
    for (const q of [3, 1500]) {
      const query = data[q] as Float32Array;
      expect(everything.nearest(query, 10, all, { floor: 0 })).toEqual(
        exactStore.nearest(query, 10, all, { floor: 0 }),
      );
      // One row in 100 accepted: the 200 kept rows hold about 2, fewer than k, so the full scan runs.
      const rare = (slot: number): boolean => slot % 100 === 7;
      expect(few.nearest(query, 10, rare, { floor: -1 })).toEqual(
        exactStore.nearest(query, 10, rare, { floor: -1 }),
      );
    }
  });

  it('never returns removed rows and applies the floor', () => {
    const store = prefiltered(300);
    const query = data[42] as Float32Array;
    store.remove(42);
    const found = store.nearest(query, 20, all, { floor: 0.05 });
    expect(found.map((m) => m.slot)).not.toContain(42);
    for (const m of found) expect(m.score).toBeGreaterThan(0.05);
    // A replaced row is found by its new vector's code.
    store.set(42, data[7] as Float32Array);
    expect(
      store
        .nearest(data[7] as Float32Array, 2, all, { floor: 0 })
        .map((m) => m.slot)
        .sort((a, b) => a - b),
    ).toEqual([7, 42]);
  });

  it('prefilters sparse vectors (the builtin embedder shape) by agreeing signs', () => {
    // Vectors with 8 non-zero components of 64: plain sign bits would call every zero a disagreement.
    const sparse = Array.from({ length: 2000 }, (_, i) => {
      const v = new Float32Array(dim);
      for (let j = 0; j < 8; j++) v[(i * 7 + j * 13) % dim] = ((i + j) % 3) - 1 || 0.5;
      return normalize(v);
    });
    const store = new VectorStore(dim, 'int8', 64, { minVectors: 1, candidates: 100 });
    const exact = new VectorStore(dim, 'int8');
    sparse.forEach((v, slot) => {
      store.set(slot, v);
      exact.set(slot, v);
    });
    for (const q of [1, 500, 1999]) {
      const query = sparse[q] as Float32Array;
      const found = store.nearest(query, 5, all, { floor: 0 }).map((m) => m.slot);
      const expected = exact.nearest(query, 5, all, { floor: 0 }).map((m) => m.slot);
      expect(found[0]).toBe(expected[0]);
      expect(found.filter((s) => expected.includes(s)).length).toBeGreaterThanOrEqual(4);
    }
  });
});
