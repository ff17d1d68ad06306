import { describe, expect, it } from 'vitest';
import { partitionCountFor } from '../../src/memory/search/vector-partitions.js';
import {
  normalize,
  PartitioningStopped,
  VectorStore,
  type PartitionPolicy,
} from '../../src/memory/search/vector-store.js';

/** Deterministic pseudo-random unit vectors with some structure (a few shared directions), like text. */
function vectors(n: number, dim: number, seed = 11): Float32Array[] {
  let s = seed;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const topics = Array.from({ length: 12 }, () => Float32Array.from({ length: dim }, rand));
  return Array.from({ length: n }, (_, i) => {
    const topic = topics[i % topics.length] as Float32Array;
    return normalize(Float32Array.from({ length: dim }, (_, j) => (topic[j] as number) + rand() * 0.8));
  });
}

const ALL = (): boolean => true;
const FLOOR = { floor: -1 };

/** A store and an exact reference fed the same writes. */
function pair(policy: PartitionPolicy, dim = 128) {
  const store = new VectorStore(dim, 'int8', 64, policy);
  const reference = new VectorStore(dim, 'int8', 64);
  return {
    store,
    reference,
    set(slot: number, v: Float32Array) {
      store.set(slot, v);
      reference.set(slot, v);
    },
    remove(slot: number) {
      store.remove(slot);
      reference.remove(slot);
    },
  };
}

/** Both stores answer the same (scanning every partition, the partitioned search is exact). */
function expectSameAnswers(store: VectorStore, reference: VectorStore, queries: Float32Array[], k = 20) {
  for (const query of queries) {
    const got = store.nearest(query, k, ALL, FLOOR);
    const want = reference.nearest(query, k, ALL, FLOOR);
    expect(got.map((m) => m.slot)).toEqual(want.map((m) => m.slot));
    got.forEach((m, i) => expect(m.score).toBeCloseTo((want[i] as { score: number }).score, 5));
  }
}

function expectSameSlots(store: VectorStore, reference: VectorStore, slots: number) {
  const differ: number[] = [];
  for (let slot = 0; slot < slots; slot++) if (store.has(slot) !== reference.has(slot)) differ.push(slot);
  expect(differ).toEqual([]);
}

describe('vector partitions (IVF)', () => {
  it('partitions once the threshold is reached, in the background, and then answers like the exact scan when it scans everything', async () => {
    const data = vectors(3000, 128);
    const both = pair({ minVectors: 2000, scan: 1 });
    data.slice(0, 1999).forEach((v, slot) => both.set(slot, v));
    expect(both.store.partitionIfDue()).toBeUndefined();
    both.set(1999, data[1999] as Float32Array);
    const running = both.store.partitionIfDue();
    expect(running).toBeInstanceOf(Promise);
    expect(both.store.partitionIfDue()).toBeUndefined(); // one at a time
    expect(both.store.partitioned).toBe(false); // exact until the new layout serves
    await running;
    expect(both.store.partitioned).toBe(true);
    expect(both.store.size).toBe(2000);
    expectSameAnswers(both.store, both.reference, data.slice(2000, 2040));
    for (let slot = 0; slot < 2000; slot += 97) {
      const v = data[slot] as Float32Array;
      expect(both.store.cosineAt(slot, v)).toBeCloseTo(both.reference.cosineAt(slot, v) as number, 5);
    }
    expect(both.store.cosineAt(5000, data[0] as Float32Array)).toBeNull();
  });

  it('keeps every write made while it works, and stays exact through removals, updates and reused slots', async () => {
    const data = vectors(4000, 128, 3);
    const both = pair({ minVectors: 1000, scan: 1 });
    data.slice(0, 1500).forEach((v, slot) => both.set(slot, v));
    const running = both.store.partitionIfDue() as Promise<void>;
    let done = false;
    void running.then(() => (done = true));
    // Interleave writes with the background work: adds, removals, updates of slots already placed.
    let step = 0;
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      both.set(1500 + step, data[1500 + step] as Float32Array);
      both.remove((step * 7) % 1500);
      both.set((step * 13 + 5) % 1500, data[3000 + (step % 1000)] as Float32Array);
      step++;
    }
    expect(step).toBeGreaterThan(2); // the work really was interleaved
    expect(both.store.partitioned).toBe(true);
    expect(both.store.size).toBe(both.reference.size);
    expectSameSlots(both.store, both.reference, 4000);
    // Every slot ranked, so a vector left stale by the work would show.
    expectSameAnswers(both.store, both.reference, data.slice(3500, 3505), 4000);
    // After: removals move rows around inside partitions; reused slots get new vectors.
    for (let slot = 0; slot < 1200; slot += 3) both.remove(slot);
    for (let slot = 0; slot < 300; slot += 3) both.set(slot, data[3600 + slot] as Float32Array);
    both.set(7, new Float32Array(128)); // a zero vector is no vector
    expect(both.store.has(7)).toBe(false);
    expect(both.store.size).toBe(both.reference.size);
    expectSameSlots(both.store, both.reference, 4000);
    expectSameAnswers(both.store, both.reference, data.slice(3540, 3545), 4000);
  });

  it('scans only its budget of rows when asked for a fraction, and finds a stored vector itself', async () => {
    const data = vectors(5000, 64, 5);
    const store = new VectorStore(64, 'int8', 64, { minVectors: 1000, scan: 0.05 });
    data.forEach((v, slot) => store.set(slot, v));
    await store.partitionIfDue();
    let found = 0;
    for (let slot = 0; slot < 5000; slot += 50) {
      const best = store.nearest(data[slot] as Float32Array, 1, ALL, FLOOR)[0];
      if (best?.slot === slot) found++;
    }
    // A vector's own partition is the one nearest to it, so it is (almost) always scanned.
    expect(found).toBeGreaterThanOrEqual(95);
    // With a 5% budget it cannot return more than the rows of the partitions it scanned.
    const many = store.nearest(data[0] as Float32Array, 5000, ALL, FLOOR);
    expect(many.length).toBeLessThan(2500);
    expect(many.length).toBeGreaterThan(0);
    expect(new Set(many.map((m) => m.slot)).size).toBe(many.length); // no slot twice
  });

  it('honours the filter and the floor in partitions', async () => {
    const data = vectors(2000, 128, 9);
    const store = new VectorStore(128, 'int8', 64, { minVectors: 500, scan: 1 });
    data.forEach((v, slot) => store.set(slot, v));
    await store.partitionIfDue();
    const even = store.nearest(data[10] as Float32Array, 50, (slot) => slot % 2 === 0, FLOOR);
    expect(even.length).toBe(50);
    expect(even.every((m) => m.slot % 2 === 0)).toBe(true);
    const high = store.nearest(data[10] as Float32Array, 2000, ALL, { floor: 0.5 });
    expect(high.every((m) => m.score > 0.5)).toBe(true);
  });

  it('trains again only after growing fourfold, and a stopped run leaves the store as it was', async () => {
    const data = vectors(4500, 32, 13);
    const store = new VectorStore(32, 'int8', 64, { minVectors: 1000, scan: 1 });
    data.slice(0, 1000).forEach((v, slot) => store.set(slot, v));
    await store.partitionIfDue();
    data.slice(1000, 3999).forEach((v, i) => store.set(1000 + i, v));
    expect(store.partitionIfDue()).toBeUndefined(); // 3,999 < 4 × 1,000
    store.set(3999, data[3999] as Float32Array);
    const again = store.partitionIfDue() as Promise<void>;
    store.stopPartitioning();
    await expect(again).rejects.toBeInstanceOf(PartitioningStopped);
    expect(store.partitioned).toBe(true); // the old partitions still serve
    expect(store.nearest(data[4000 - 1] as Float32Array, 1, ALL, FLOOR)[0]?.slot).toBe(3999);
    await store.partitionIfDue();
    expect(store.size).toBe(4000);
  });

  it('never partitions when the policy says 0, and sizes partitions by about the square root', () => {
    const store = new VectorStore(16, 'int8', 64, { minVectors: 0, scan: 0.1 });
    vectors(100, 16).forEach((v, slot) => store.set(slot, v));
    expect(store.partitionIfDue()).toBeUndefined();
    expect(partitionCountFor(1_000_000)).toBe(1000);
    expect(partitionCountFor(10)).toBe(16);
    expect(partitionCountFor(1e12)).toBe(4096);
  });
});
