/**
 * Verified credentials by key hash, kept for a short TTL so the hot path needs no Redis read for auth.
 * Correctness never depends on the TTL: revocation and deactivation publish an invalidation that every
 * instance applies at once (see CredentialInvalidation), and a lost subscriber connection clears the cache.
 * Unknown keys are never cached, so guessing cannot fill memory.
 *
 * A credential read from Redis while an invalidation arrived may be the state from before it: `epoch`
 * counts invalidations, and a loader that read at an older epoch must not cache what it read
 * (`set(..., epochAtLoad)`), or a revoked key would live on here until the TTL.
 */
export class CredentialCache<V extends { tags: readonly string[] }> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private invalidations = 0;
  /** Lookups answered from memory and lookups that had to read Redis (read by /metrics at scrape time). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  get(hash: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(hash);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    if (entry.expiresAt <= now) {
      this.entries.delete(hash);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return entry.value;
  }

  /** Changes whenever entries are invalidated or cleared. */
  get epoch(): number {
    return this.invalidations;
  }

  /** Caches a credential read at `epochAtLoad` (omit for a value that did not come from a read). */
  set(hash: string, value: V, epochAtLoad = this.invalidations, now = Date.now()): void {
    if (this.ttlMs <= 0 || epochAtLoad !== this.invalidations) return;
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, { value, expiresAt: now + this.ttlMs });
  }

  /** Drops every entry carrying `tag` (e.g. `layer:<hash>`, `user:<org>:<id>`). */
  invalidate(tag: string): void {
    this.invalidations++;
    for (const [hash, entry] of this.entries) {
      if (entry.value.tags.includes(tag)) this.entries.delete(hash);
    }
  }

  clear(): void {
    this.invalidations++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
