import { endianness } from 'node:os';
import type { Logger } from '../../log.js';
import { compareStreamIds } from '../events.js';
import type { Tenant } from '../../tenant.js';
import {
  compatible,
  checkFrames,
  decodeSnapshot,
  encodeSnapshot,
  SNAPSHOT_FORMAT,
  type SnapshotIdentity,
} from './index-snapshot.js';
import { NO_INDEX_OBSERVER, type IndexObserver } from './index-observer.js';
import { inSlices } from './slices.js';
import { SnapshotStore, type SnapshotMeta } from './snapshot-store.js';
import { TOKENIZER_VERSION } from './tokenizer.js';
import type { PartitionPolicy, VectorPrecision } from './vector-store.js';
import { WorkspaceIndex, type WorkspaceIndexState } from './workspace-index.js';

/**
 * When an instance reads and writes persisted index snapshots (the format: index-snapshot.ts; Redis:
 * snapshot-store.ts). A build tries `restore` first; the index manager then catches the restored index up
 * from the stream like any other. Writes happen in the background, at most one per workspace per instance:
 *
 * - after a build from the documents, when the index holds at least `minDocs` documents;
 * - after `eventsBetween(docs)` events were applied since the last snapshot (or since the snapshot it was
 *   restored from): a tenth of the documents, so a restore replays at most ~10% of a full build's work on
 *   top of loading, but at least 1,000 (a small busy workspace does not rewrite megabytes every few writes)
 *   and at most half of MNEMO_EVENT_STREAM_MAXLEN, so the snapshot is renewed well before the stream is
 *   trimmed past it (after which a restore could not catch up and would rebuild from the documents);
 * - soon after a document was removed or replaced (at most once per `removalRewriteMs` per workspace and
 *   instance: a minute per 200,000 documents, between 1 and 10 minutes), so a deleted memory does not
 *   stay in Redis in an old snapshot until the next tenth of the documents has changed. The interval
 *   grows with the index because a capture's allocations can set off a full garbage collection of the
 *   whole heap, ~0.4 s at 1M documents (README, Scale): once every 5 minutes there, not every minute.
 *
 * The capture (`capture`, provided by the index manager) copies the index under its one-catch-up-at-a-time
 * rule, in slices; encoding and writing happen after, on the copy, in slices too. Nothing here throws into
 * a request: a snapshot that cannot be read is logged, dropped and the index built from the documents.
 */
export interface SnapshotSettings {
  /** Smallest index worth a snapshot (MNEMO_INDEX_SNAPSHOT_MIN_DOCS); 0 turns snapshots off. */
  minDocs: number;
  embedder: string;
  streamMaxLen: number;
  /** Events between two snapshots of an index, instead of the rule above (tests). */
  eventsBetween?: number;
  /** Least time between the start of a write and one caused by removals (default: by size; tests). */
  removalRewriteMs?: number;
}

/** The default interval of removal rewrites: a minute per 200,000 documents, within 1–10 minutes. */
export function removalRewriteMsFor(docs: number): number {
  return Math.min(600_000, Math.max(60_000, Math.round((60_000 * docs) / 200_000)));
}

export type CaptureIndex = (index: WorkspaceIndex) => Promise<WorkspaceIndexState>;

export class IndexSnapshots {
  /** Events applied to an index since the snapshot it matches (absent: it matches none). */
  private readonly since = new WeakMap<WorkspaceIndex, number>();
  private readonly writing = new Map<string, Promise<void>>();
  /** `removals` of each index when its last snapshot write started. */
  private readonly removalsWritten = new WeakMap<WorkspaceIndex, number>();
  /** When the last write of each workspace started, and rewrites waiting for removals. */
  private readonly lastStarted = new Map<string, number>();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  /** Writes asked for while one was running: started when it ends (so the newer state is not lost). */
  private readonly again = new Map<string, { index: WorkspaceIndex; capture: CaptureIndex }>();
  readonly identity: SnapshotIdentity;

  constructor(
    private readonly store: SnapshotStore,
    private readonly settings: SnapshotSettings,
    dim: number,
    precision: VectorPrecision,
    private readonly log: Logger,
    private readonly observer: IndexObserver = NO_INDEX_OBSERVER,
  ) {
    this.identity = {
      format: SNAPSHOT_FORMAT,
      tokenizer: TOKENIZER_VERSION,
      dim,
      precision,
      embedder: settings.embedder,
    };
  }

  /** Snapshots are raw typed-array bytes: little-endian hosts only (every platform Node ships for). */
  get enabled(): boolean {
    return this.settings.minDocs > 0 && endianness() === 'LE';
  }

  eventsBetween(docs: number): number {
    if (this.settings.eventsBetween !== undefined) return this.settings.eventsBetween;
    return Math.max(1000, Math.min(Math.ceil(docs / 10), Math.floor(this.settings.streamMaxLen / 2)));
  }

  /** The workspace's index as its snapshot holds it, or undefined (none, incompatible, unreadable). */
  async restore(workspace: Tenant, partitions: PartitionPolicy): Promise<WorkspaceIndex | undefined> {
    if (!this.enabled) return undefined;
    const started = performance.now();
    let meta: SnapshotMeta | undefined;
    try {
      meta = await this.store.meta(workspace);
      if (!meta) return undefined;
      if (!compatible(meta.info, this.identity)) {
        this.log.info(
          { workspace, snapshot: meta.info, instance: this.identity },
          'index snapshot of another format or embedder ignored',
        );
        this.observer.snapshotLoaded('incompatible', 0);
        return undefined;
      }
      const chunks = checkFrames(await this.store.chunks(workspace, meta), meta.gen);
      const state = await decodeSnapshot(chunks, this.identity);
      const index = await inSlices(
        WorkspaceIndex.restore(workspace, this.identity.dim, this.identity.precision, state, partitions),
      );
      this.since.set(index, 0);
      const seconds = (performance.now() - started) / 1000;
      this.observer.snapshotLoaded('restored', seconds);
      this.log.info(
        { workspace, docs: index.size, chunks: meta.chunks, ms: Math.round(seconds * 1000) },
        'index restored from its snapshot',
      );
      return index;
    } catch (err) {
      this.observer.snapshotLoaded('unreadable', (performance.now() - started) / 1000);
      this.log.warn(
        { workspace, gen: meta?.gen, err: err instanceof Error ? err.message : String(err) },
        'index snapshot unreadable: building the index from the documents',
      );
      if (meta) await this.store.drop(workspace, meta.gen).catch(() => undefined);
      return undefined;
    }
  }

  /** A restored index could not catch up (the stream was trimmed past it): it is not worth keeping. */
  tooOld(index: WorkspaceIndex): void {
    this.since.delete(index);
  }

  /** After a build from the documents. */
  built(index: WorkspaceIndex, capture: CaptureIndex): void {
    if (!this.enabled) return;
    this.since.delete(index);
    if (index.size >= this.settings.minDocs) this.start(index, capture);
  }

  /**
   * After the index's vectors were partitioned (vector-store.ts): written again at once, so an instance
   * that restores it lays the partitions out instead of training them.
   */
  partitioned(index: WorkspaceIndex, capture: CaptureIndex): void {
    if (this.enabled && index.size >= this.settings.minDocs) this.start(index, capture);
  }

  /** After `events` events were applied to an index (a catch-up, or a restore's first one). */
  applied(index: WorkspaceIndex, events: number, capture: CaptureIndex): void {
    if (!this.enabled || events === 0) return;
    const since = this.since.get(index);
    const total = (since ?? Number.POSITIVE_INFINITY) + events;
    if (since !== undefined) this.since.set(index, total);
    if (index.size < this.settings.minDocs) return;
    if (total >= this.eventsBetween(index.size)) this.start(index, capture);
    else if (index.removals > (this.removalsWritten.get(index) ?? 0)) this.rewriteSoon(index, capture);
  }

  /** A write once `removalRewriteMs` has passed since the last one started (one timer per workspace). */
  private rewriteSoon(index: WorkspaceIndex, capture: CaptureIndex): void {
    const workspace = index.workspace;
    if (this.scheduled.has(workspace) || this.writing.has(workspace)) return;
    const every = this.settings.removalRewriteMs ?? removalRewriteMsFor(index.size);
    const wait = Math.max(0, (this.lastStarted.get(workspace) ?? 0) + every - Date.now());
    const timer = setTimeout(() => {
      this.scheduled.delete(workspace);
      this.start(index, capture);
    }, wait);
    timer.unref();
    this.scheduled.set(workspace, timer);
  }

  /** Cancels the rewrites waiting for their time (shutdown). */
  cancelScheduled(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  /** Resolves when no snapshot write of this instance is running (tests, the benchmark, shutdown). */
  async idle(): Promise<void> {
    while (this.writing.size > 0) await Promise.all(this.writing.values());
  }

  private start(index: WorkspaceIndex, capture: CaptureIndex): void {
    const workspace = index.workspace;
    if (this.writing.has(workspace)) {
      this.again.set(workspace, { index, capture });
      return;
    }
    // Counted again from here: a write that fails is retried after as many events, not at every catch-up.
    this.since.set(index, 0);
    this.lastStarted.set(workspace, Date.now());
    const run = this.write(index, capture)
      .catch((err: unknown) => {
        this.observer.snapshotWritten('failed', 0, 0);
        this.log.warn(
          { workspace, err: err instanceof Error ? err.message : String(err) },
          'index snapshot not written',
        );
      })
      .finally(() => {
        this.writing.delete(workspace);
        const next = this.again.get(workspace);
        this.again.delete(workspace);
        if (next) this.start(next.index, next.capture);
      });
    this.writing.set(workspace, run);
  }

  private async write(index: WorkspaceIndex, capture: CaptureIndex): Promise<void> {
    const workspace = index.workspace;
    const started = performance.now();
    // Another instance may have written one as new as ours already: then there is nothing to do.
    const current = await this.store.meta(workspace);
    const order = current ? compareStreamIds(current.position, index.lastEventId) : -1;
    if (
      current &&
      compatible(current.info, this.identity) &&
      (order > 0 || (order === 0 && (current.partitioned || !index.vectors.partitioned)))
    ) {
      this.since.set(index, 0);
      this.removalsWritten.set(index, index.removals);
      return;
    }
    const removals = index.removals;
    const state = await capture(index);
    this.removalsWritten.set(index, removals);
    // Counted from the capture: events applied while this write runs count towards the next one.
    this.since.set(index, 0);
    const gen = SnapshotStore.newGeneration();
    let chunks = 0;
    let bytes = 0;
    try {
      for await (const chunk of encodeSnapshot(state, this.identity, gen)) {
        await this.store.putChunk(workspace, gen, chunks, chunk);
        chunks++;
        bytes += chunk.length;
      }
    } catch (err) {
      await this.store.discard(workspace, gen, chunks).catch(() => undefined);
      throw err;
    }
    const committed = await this.store.commit(workspace, {
      gen,
      position: state.lastEventId,
      chunks,
      partitioned: state.vectors.partitions !== undefined,
      info: {
        ...this.identity,
        entriesAdded: state.entriesAdded,
        docs: state.bm25.liveDocs,
        bytes,
        createdAt: new Date().toISOString(),
      },
    });
    const seconds = (performance.now() - started) / 1000;
    this.observer.snapshotWritten(committed ? 'committed' : 'stale', seconds, bytes);
    this.log.info(
      { workspace, gen, chunks, bytes, committed, ms: Math.round(seconds * 1000) },
      committed ? 'index snapshot written' : 'index snapshot not committed: a newer one exists',
    );
  }
}
