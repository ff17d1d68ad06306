import type { Embedder } from './embedder.js';

/** A query vector, or why there is none (recall then degrades to BM25 and says so). */
export type QueryVector =
  | { vector: Float32Array; degraded: false }
  | { vector: undefined; degraded: true; reason: 'timeout' | 'error'; detail: string };

/**
 * Embeds recall queries within a time budget, with an LRU cache. A query that misses its budget keeps
 * embedding in the background so the next identical query finds its vector in the cache.
 */
export class QueryEmbedder {
  private readonly cache = new Map<string, Float32Array>();
  private readonly inflight = new Map<string, Promise<Float32Array>>();

  constructor(
    readonly embedder: Embedder,
    private readonly maxEntries = 4096,
  ) {}

  async embed(text: string, budgetMs: number): Promise<QueryVector> {
    const cached = this.cache.get(text);
    if (cached) {
      this.cache.delete(text);
      this.cache.set(text, cached);
      return { vector: cached, degraded: false };
    }
    let pending = this.inflight.get(text);
    if (!pending) {
      pending = this.embedder.embed([text]).then((rows) => {
        const vector = rows[0] as Float32Array;
        this.remember(text, vector);
        return vector;
      });
      this.inflight.set(text, pending);
      const forget = (): void => void this.inflight.delete(text);
      pending.then(forget, forget);
    }
    if (this.embedder.inline) {
      return pending.then(
        (vector) => ({ vector, degraded: false }),
        (err: Error) => ({ vector: undefined, degraded: true, reason: 'error', detail: err.message }),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<QueryVector>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            vector: undefined,
            degraded: true,
            reason: 'timeout',
            detail: `embedding took over ${budgetMs} ms`,
          }),
        budgetMs,
      );
    });
    const result = pending.then(
      (vector): QueryVector => ({ vector, degraded: false }),
      (err: Error): QueryVector => ({
        vector: undefined,
        degraded: true,
        reason: 'error',
        detail: err.message,
      }),
    );
    try {
      return await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private remember(text: string, vector: Float32Array): void {
    this.cache.set(text, vector);
    if (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }
}
