import { describe, expect, it } from 'vitest';
import { nativeExactSearch } from '../../src/memory/search/native-scan.js';
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

describe('vector store', () => {
  const dim = 64;
  const data = vectors(6000, dim);
  const query = data[42] as Float32Array;

  for (const precision of ['float32', 'int8'] as const) {
    it(`${precision}: cosines stay within 0.01 of the exact value`, () => {
      const store = new VectorStore(dim, precision);
      data.slice(0, 100).forEach((v, slot) => store.set(slot, v));
      for (let slot = 0; slot < 100; slot++) {
        expect(store.cosineAt(slot, query)).toBeCloseTo(exactCos(query, data[slot]!), 2);
      }
    });
  }

  it('finds the same neighbours with the native scan and the JavaScript scan', () => {
    expect(nativeExactSearch).toBeDefined(); // the addon ships prebuilt for this platform
    const withNative = new VectorStore(dim, 'int8');
    const jsOnly = new VectorStore(dim, 'int8', 1024, undefined);
    data.forEach((v, slot) => {
      withNative.set(slot, v);
      jsOnly.set(slot, v);
    });
    const accept = (slot: number): boolean => slot % 2 === 0;
    const a = withNative.nearest(query, 20, accept, { floor: -1, narrow: false });
    const b = jsOnly.nearest(query, 20, accept, { floor: -1, narrow: false });
    expect(a.map((m) => m.slot)).toEqual(b.map((m) => m.slot));
    expect(a[0]).toEqual({ slot: 42, score: expect.closeTo(1, 2) });
  });

  it('never returns removed slots, even from the native scan', () => {
    const store = new VectorStore(dim, 'float32');
    data.forEach((v, slot) => store.set(slot, v));
    store.remove(42);
    const found = store.nearest(query, 5, () => true, { floor: -1, narrow: false });
    expect(found.map((m) => m.slot)).not.toContain(42);
    expect(store.size).toBe(data.length - 1);
    expect(store.cosineAt(42, query)).toBeNull();
  });

  it('applies the floor', () => {
    const store = new VectorStore(dim, 'int8');
    data.slice(0, 50).forEach((v, slot) => store.set(slot, v));
    for (const m of store.nearest(query, 50, () => true, { floor: 0.2, narrow: true }))
      expect(m.score).toBeGreaterThan(0.2);
  });
});
