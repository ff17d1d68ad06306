/**
 * Keeps the k highest-scoring slots seen, in O(n log k) without allocating per item: a binary min-heap in
 * typed arrays whose root is the weakest kept entry.
 */
export class TopK {
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private size = 0;

  constructor(readonly capacity: number) {
    this.scores = new Float64Array(Math.max(1, capacity));
    this.slots = new Int32Array(Math.max(1, capacity));
  }

  /** Lowest kept score once full; -Infinity before. Callers can skip work for items below it. */
  get threshold(): number {
    return this.size < this.capacity ? Number.NEGATIVE_INFINITY : (this.scores[0] as number);
  }

  push(slot: number, score: number): void {
    if (this.capacity === 0) return;
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if ((this.scores[parent] as number) <= score) break;
        this.scores[i] = this.scores[parent] as number;
        this.slots[i] = this.slots[parent] as number;
        i = parent;
      }
      this.scores[i] = score;
      this.slots[i] = slot;
      return;
    }
    if (score <= (this.scores[0] as number)) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child =
        right < this.size && (this.scores[right] as number) < (this.scores[left] as number) ? right : left;
      if ((this.scores[child] as number) >= score) break;
      this.scores[i] = this.scores[child] as number;
      this.slots[i] = this.slots[child] as number;
      i = child;
    }
    this.scores[i] = score;
    this.slots[i] = slot;
  }

  /** The kept entries, best first. */
  sorted(): { slot: number; score: number }[] {
    const out: { slot: number; score: number }[] = [];
    for (let i = 0; i < this.size; i++)
      out.push({ slot: this.slots[i] as number, score: this.scores[i] as number });
    return out.sort((a, b) => b.score - a.score);
  }
}
