import type { Tenant } from '../tenant.js';
/**
 * The recall cache: a repeated query (same namespace, top_k, layers, same endpoint) is answered from memory
 * while the workspace has had no write since (its index is still at the same stream id) and the entry is
 * younger than the TTL. Any write moves the stream, which invalidates every entry of the workspace, on
 * every instance, at its next query.
 */
interface Entry<T> {
  eventId: string;
  expiresAt: number;
  value: T;
}

export class RecallCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  static key(parts: (string | number | null | undefined)[]): string {
    return parts.map((p) => (p === null || p === undefined ? '' : String(p))).join('\u001f');
  }

  get(key: string, eventId: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.eventId !== eventId || entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, eventId: string, value: T, expiresAt: number): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { eventId, value, expiresAt: Math.min(expiresAt, Date.now() + this.ttlMs) });
  }

  /** Entries of one workspace (keys start with the workspace). */
  sizeOf(workspace: Tenant): number {
    let n = 0;
    for (const key of this.entries.keys()) if (key.startsWith(`${workspace}\u001f`)) n++;
    return n;
  }
}
