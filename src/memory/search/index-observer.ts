/**
 * What the index manager reports as it works, for metrics. The manager calls these on paths that already
 * do I/O (a build, a catch-up), never per document; the default does nothing.
 */
export interface IndexObserver {
  /** A workspace's index was built from Redis (first use, after an eviction, or a rebuild). */
  built(seconds: number): void;
  /** An index was dropped from memory to keep the byte budget. */
  evicted(): void;
  /**
   * The catch-up before a query: how many events the index was behind and how long bringing it up to date
   * took (one Redis round trip when nothing was new).
   */
  caughtUp(events: number, seconds: number): void;
  /** A build tried the workspace's persisted snapshot (index-snapshots.ts): restored, or why not. */
  snapshotLoaded(outcome: 'restored' | 'incompatible' | 'unreadable', seconds: number): void;
  /** A snapshot write ended: committed, refused as older than the current one (stale), or failed. */
  snapshotWritten(outcome: 'committed' | 'stale' | 'failed', seconds: number, bytes: number): void;
}

export const NO_INDEX_OBSERVER: IndexObserver = {
  built: () => undefined,
  evicted: () => undefined,
  caughtUp: () => undefined,
  snapshotLoaded: () => undefined,
  snapshotWritten: () => undefined,
};
