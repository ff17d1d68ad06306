import type { Logger } from '../../log.js';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import type { EventLog } from '../event-log.js';
import { compareStreamIds, type StoredEvent } from '../events.js';
import { NO_INDEX_OBSERVER, type IndexObserver } from './index-observer.js';
import type { IndexSnapshots } from './index-snapshots.js';
import { toSearchDoc } from './search-doc.js';
import {
  bufferToVector,
  NO_PARTITIONS,
  PartitioningStopped,
  type PartitionPolicy,
  type VectorPrecision,
} from './vector-store.js';
import { inSlices } from './slices.js';
import { WorkspaceIndex, type WorkspaceIndexState } from './workspace-index.js';
import type { Tenant } from '../../tenant.js';

/**
 * How an event changes an index: `upsert` (data is the document's whole public shape), `remove` (data.id
 * or data.ids), `vectors` (fetch the vectors of data.ids). Each face contributes the rules of its own event
 * types. Rule: an event that changes a document carries all of it, so applying it needs nothing the index
 * does not have (there is no "merge these fields": a partial event once left a superseded fact current).
 */
export type IndexEventRule = 'upsert' | 'remove' | 'vectors';
export type IndexEventRules = Readonly<Record<string, IndexEventRule>>;

export const MEMORY_INDEX_RULES: IndexEventRules = {
  'memory.working.added': 'upsert',
  'memory.episode.added': 'upsert',
  'memory.fact.added': 'upsert',
  'memory.fact.confirmed': 'upsert',
  'memory.fact.superseded': 'upsert',
  'memory.deleted': 'remove',
  'working.evicted': 'remove',
  'working.expired': 'remove',
  'working.cleared': 'remove',
  'memory.forgotten': 'remove',
  'memory.embedded': 'vectors',
};

/** One index held, as GET /admin/metrics lists it. */
export interface IndexDetail {
  workspace: string;
  docs: number;
  vectors: number;
  /** Whether recall scans the nearest vector partitions only (approximate; see vector-partitions.ts). */
  partitioned: boolean;
  bytes: number;
}

const PAGE = 1000;
const SCAN_COUNT = 2000;

/**
 * Per-instance search indexes, one per workspace, kept in an LRU bounded by bytes. `fresh(workspace)` loads
 * the index on first use and otherwise catches it up from the workspace stream (one round trip when nothing
 * changed), so a query sees every write acknowledged before it started, on any instance. A stream trimmed
 * past an index's position triggers a rebuild.
 *
 * With persisted snapshots (index-snapshots.ts), a load restores the workspace's snapshot when there is a
 * usable one and catches it up from the stream exactly like a held index (a snapshot the stream was
 * trimmed past is discarded and the index built from the documents). Rule: an index changes only inside
 * `build` (before anyone else sees it) and `apply` (one catch-up at a time), so a snapshot captured while
 * holding the catch-up turn (`exclusive`) is a consistent state.
 */
export class IndexManager {
  private readonly indexes = new Map<string, WorkspaceIndex>();
  private readonly loading = new Map<string, Promise<WorkspaceIndex>>();
  private readonly syncing = new Map<WorkspaceIndex, Promise<void>>();
  private readonly queued = new Map<WorkspaceIndex, Promise<void>>();
  /** Indexes rebuilt because the stream had been trimmed past them (a sign MNEMO_EVENT_STREAM_MAXLEN is low). */
  private rebuilds = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly events: EventLog,
    private readonly dim: number,
    private readonly rules: IndexEventRules,
    private readonly maxBytes: number,
    private readonly log: Logger,
    private readonly precision: VectorPrecision = 'int8',
    private readonly observer: IndexObserver = NO_INDEX_OBSERVER,
    private readonly snapshots?: IndexSnapshots,
    private readonly partitions: PartitionPolicy = NO_PARTITIONS,
  ) {}

  /** The workspace's index, up to date with every event written before this call. */
  async fresh(workspace: Tenant): Promise<WorkspaceIndex> {
    const index = this.indexes.get(workspace);
    if (!index) return this.load(workspace);
    index.lastUsed = Date.now();
    this.indexes.delete(workspace);
    this.indexes.set(workspace, index); // most recently used last
    await this.catchUp(index);
    return this.indexes.get(workspace) ?? index;
  }

  /** Indexes held and their approximate bytes (for stats and the benchmark). */
  usage(): { workspaces: number; bytes: number; rebuilds: number } {
    let bytes = 0;
    for (const index of this.indexes.values()) bytes += index.bytes();
    return { workspaces: this.indexes.size, bytes, rebuilds: this.rebuilds };
  }

  /** Per-workspace figures of the indexes held, largest first. */
  details(): IndexDetail[] {
    return [...this.indexes.values()]
      .map((index) => ({
        workspace: index.workspace,
        docs: index.size,
        vectors: index.vectors.size,
        partitioned: index.vectors.partitioned,
        bytes: index.bytes(),
      }))
      .sort((a, b) => b.bytes - a.bytes);
  }

  /** Forgets a workspace's index (it is rebuilt on next use). */
  drop(workspace: Tenant): void {
    this.forget(workspace);
  }

  private forget(workspace: string): void {
    this.indexes.get(workspace)?.vectors.stopPartitioning();
    this.indexes.delete(workspace);
  }

  /**
   * Partitions a large index's vectors in the background when due (vector-store.ts): queries keep the
   * exact scan until the partitions serve.
   */
  private partitionIfDue(index: WorkspaceIndex): void {
    const started = performance.now();
    index.vectors.partitionIfDue()?.then(
      () => {
        this.log.info(
          {
            workspace: index.workspace,
            vectors: index.vectors.size,
            ms: Math.round(performance.now() - started),
          },
          'index vectors partitioned',
        );
        if (this.indexes.get(index.workspace) === index) this.snapshots?.partitioned(index, this.capture);
      },
      (err: unknown) => {
        if (!(err instanceof PartitioningStopped))
          this.log.error({ err, workspace: index.workspace }, 'partitioning the index vectors failed');
      },
    );
  }

  /** Resolves when no snapshot write of this instance is running (tests, the benchmark). */
  snapshotsIdle(): Promise<void> {
    return this.snapshots?.idle() ?? Promise.resolve();
  }

  /** At shutdown: no new background work (snapshot rewrites waiting for their time, partitionings). */
  close(): void {
    this.snapshots?.cancelScheduled();
    for (const index of this.indexes.values()) index.vectors.stopPartitioning();
  }

  private load(workspace: Tenant, useSnapshot = true): Promise<WorkspaceIndex> {
    let pending = this.loading.get(workspace);
    if (!pending) {
      pending = this.build(workspace, useSnapshot).finally(() => this.loading.delete(workspace));
      this.loading.set(workspace, pending);
    }
    return pending;
  }

  private async build(workspace: Tenant, useSnapshot: boolean): Promise<WorkspaceIndex> {
    const started = performance.now();
    const restored = useSnapshot ? await this.restore(workspace) : undefined;
    const index = restored ?? (await this.scan(workspace));
    this.indexes.set(workspace, index);
    await this.catchUp(index);
    this.enforceBudget(workspace);
    this.partitionIfDue(index);
    this.observer.built((performance.now() - started) / 1000);
    this.log.debug(
      {
        workspace,
        docs: index.size,
        restored: restored !== undefined,
        ms: Math.round(performance.now() - started),
      },
      'index built',
    );
    if (!restored) this.snapshots?.built(index, this.capture);
    return this.indexes.get(workspace) ?? index;
  }

  /** The index from the documents and vectors HASHes. */
  private async scan(workspace: Tenant): Promise<WorkspaceIndex> {
    const index = new WorkspaceIndex(workspace, this.dim, this.precision, this.partitions);
    // Position first: events after it are applied on top of the scan (applying twice is harmless).
    const position = await this.events.read(workspace, '0-0', 0);
    index.lastEventId = position.lastId || '0-0';
    index.entriesAdded = position.entriesAdded;
    await this.scanDocuments(workspace, index);
    await this.scanVectors(workspace, index);
    return index;
  }

  /**
   * The index from the workspace's snapshot, caught up with the stream; undefined when there is no usable
   * snapshot or the stream was trimmed past it. Nobody else sees the index yet, so it is caught up here
   * directly, not through `catchUp`.
   */
  private async restore(workspace: Tenant): Promise<WorkspaceIndex | undefined> {
    const index = await this.snapshots?.restore(workspace, this.partitions);
    if (!index) return undefined;
    const applied = await this.applyPages(index);
    if (applied === 'behind') {
      this.log.info(
        { workspace },
        'index snapshot older than the event stream keeps: building from the documents',
      );
      this.snapshots?.tooOld(index);
      return undefined;
    }
    this.snapshots?.applied(index, applied, this.capture);
    return index;
  }

  /** A copy of the index's state, taken in its catch-up turn (nothing changes it meanwhile), in slices. */
  private readonly capture = (index: WorkspaceIndex): Promise<WorkspaceIndexState> =>
    this.exclusive(index, () => inSlices(index.captureState()));

  /**
   * Runs `work` as the index's catch-up turn: after the running one, and catch-ups arriving meanwhile
   * wait for it (catchUp queues behind whatever `syncing` holds).
   */
  private async exclusive<T>(index: WorkspaceIndex, work: () => Promise<T>): Promise<T> {
    for (let running = this.syncing.get(index); running; running = this.syncing.get(index))
      await running.catch(() => undefined);
    const run = work();
    const held = run.then(
      () => undefined,
      () => undefined,
    );
    this.syncing.set(index, held);
    try {
      return await run;
    } finally {
      if (this.syncing.get(index) === held) this.syncing.delete(index);
    }
  }

  // Both scans ask for the next page before indexing the current one, so Redis works while we do.

  private async scanDocuments(workspace: Tenant, index: WorkspaceIndex): Promise<void> {
    const key = this.keys.docs(workspace);
    let page = this.redis.hscan(key, '0', 'COUNT', SCAN_COUNT);
    for (;;) {
      const [cursor, flat] = await page;
      if (cursor !== '0') page = this.redis.hscan(key, cursor, 'COUNT', SCAN_COUNT);
      for (let i = 1; i < flat.length; i += 2) {
        const doc = parseDoc(flat[i] as string);
        if (doc) index.upsert(doc);
      }
      if (cursor === '0') return;
    }
  }

  private async scanVectors(workspace: Tenant, index: WorkspaceIndex): Promise<void> {
    const key = this.keys.vectors(workspace);
    // One aligned scratch vector for every copy: the store quantizes or copies it at once.
    const scratch = new Float32Array(this.dim);
    const scratchBytes = new Uint8Array(scratch.buffer);
    let page = this.redis.hscanBuffer(key, '0', 'COUNT', SCAN_COUNT);
    let mismatched = 0;
    for (;;) {
      const [next, flat] = await page;
      const cursor = next.toString();
      if (cursor !== '0') page = this.redis.hscanBuffer(key, cursor, 'COUNT', SCAN_COUNT);
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const bytes = flat[i + 1] as Buffer;
        if (bytes.byteLength !== scratchBytes.byteLength) {
          mismatched++;
          continue;
        }
        scratchBytes.set(bytes);
        index.setVector((flat[i] as Buffer).toString(), scratch);
      }
      if (cursor !== '0') continue;
      if (mismatched > 0) {
        this.log.warn(
          { workspace, vectors: mismatched, dim: this.dim },
          'vectors of another dimension ignored (the embedder changed): those memories are found by BM25 until re-embedded (POST /admin/workspaces/{workspace_id}/reembed)',
        );
      }
      return;
    }
  }

  /** One catch-up at a time per index; a caller arriving during one waits for the next, which starts after. */
  private catchUp(index: WorkspaceIndex): Promise<void> {
    const running = this.syncing.get(index);
    if (!running) {
      const run = this.applyNewEvents(index).finally(() => this.syncing.delete(index));
      this.syncing.set(index, run);
      return run;
    }
    let next = this.queued.get(index);
    if (!next) {
      next = running
        .catch(() => undefined)
        .then(() => {
          this.queued.delete(index);
          return this.catchUp(index);
        });
      this.queued.set(index, next);
    }
    return next;
  }

  private async applyNewEvents(index: WorkspaceIndex): Promise<void> {
    const started = performance.now();
    const applied = await this.applyPages(index);
    if (applied === 'behind') {
      // The stream was trimmed past our position (or recreated): rebuild from the documents (a snapshot
      // would be at least as old as this index).
      this.log.info({ workspace: index.workspace }, 'event stream moved past the index: rebuilding');
      this.rebuilds++;
      this.forget(index.workspace);
      const rebuilt = await this.load(index.workspace, false);
      this.indexes.set(index.workspace, rebuilt);
      return;
    }
    this.observer.caughtUp(applied, (performance.now() - started) / 1000);
    if (this.indexes.get(index.workspace) === index) this.snapshots?.applied(index, applied, this.capture);
  }

  /**
   * Applies the events after the index's position; returns how many it applied, or 'behind' when the
   * stream no longer holds every event after the index's position (then the index is left as it was).
   */
  private async applyPages(index: WorkspaceIndex): Promise<number | 'behind'> {
    let applied = 0;
    for (;;) {
      const page = await this.events.readNew(index.workspace, index.lastEventId, PAGE);
      if (!page) return applied; // nothing new: the usual case, one cheap round trip
      // Trimming removes the oldest entries only. When our position is older than the oldest entry kept,
      // every kept entry is after us: if fewer are kept than were added since, some we never saw are gone.
      const expected = page.entriesAdded - index.entriesAdded;
      const behindRetention = compareStreamIds(index.lastEventId, page.firstId) < 0;
      if (expected < 0 || (behindRetention && expected > page.length)) return 'behind';
      await this.apply(index, page.events);
      applied += page.events.length;
      if (page.events.length > 0) index.lastEventId = (page.events[page.events.length - 1] as StoredEvent).id;
      index.entriesAdded += page.events.length;
      // Indexes grow by catching up as much as by loading: the budget holds after either.
      if (this.indexes.get(index.workspace) === index) {
        this.enforceBudget(index.workspace);
        this.partitionIfDue(index);
      }
      if (page.events.length < PAGE) return applied;
    }
  }

  private async apply(index: WorkspaceIndex, events: StoredEvent[]): Promise<void> {
    const needVectors = new Set<string>();
    for (const event of events) {
      const rule = this.rules[event.type];
      if (!rule) continue;
      const data = eventData(event.json);
      if (!data) continue; // not an envelope this engine wrote: never let it stop every later catch-up
      switch (rule) {
        case 'upsert': {
          const doc = toSearchDoc(data);
          if (doc) {
            index.upsert(doc);
            if (!index.hasVector(doc.id)) needVectors.add(doc.id);
          }
          break;
        }
        case 'remove':
          for (const id of idsOf(data)) {
            index.remove(id);
            needVectors.delete(id);
          }
          break;
        case 'vectors':
          for (const id of idsOf(data)) needVectors.add(id);
          break;
      }
    }
    if (needVectors.size === 0) return;
    const ids = [...needVectors];
    const vectors = await this.redis.hmgetBuffer(this.keys.vectors(index.workspace), ...ids);
    vectors.forEach((bytes, i) => {
      if (bytes && bytes.byteLength === this.dim * 4)
        index.setVector(ids[i] as string, bufferToVector(bytes));
    });
  }

  /** Drops least recently used indexes (never `keep`) until the total fits; O(indexes held), sizes are O(1). */
  private enforceBudget(keep: string): void {
    let total = 0;
    for (const index of this.indexes.values()) total += index.bytes();
    for (const [workspace, index] of this.indexes) {
      if (total <= this.maxBytes) return;
      if (workspace === keep) continue;
      total -= index.bytes();
      this.forget(workspace);
      this.observer.evicted();
      this.log.info({ workspace }, 'index evicted from memory (budget)');
    }
  }
}

function parseDoc(json: string) {
  try {
    return toSearchDoc(JSON.parse(json) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

function eventData(json: string): Record<string, unknown> | undefined {
  try {
    const data = (JSON.parse(json) as { data?: unknown }).data;
    return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function idsOf(data: Record<string, unknown>): string[] {
  if (Array.isArray(data.ids)) return data.ids.filter((id): id is string => typeof id === 'string');
  return typeof data.id === 'string' ? [data.id] : [];
}
