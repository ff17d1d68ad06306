import type { Embedder } from './embedders/embedder.js';
import type { MemoryStore } from './memory-store.js';
import type { Tenant } from '../tenant.js';

/**
 * Re-embedding tenants (a workspace and the organisation of that name): gives every document (memories, facts, engrams) a vector of the current
 * embedder. Needed after changing MNEMO_EMBEDDER or its dimension, when stored vectors no longer match
 * and the index ignores them (those documents are then found by BM25 only). By default only documents
 * whose vector is missing or of another size are embedded; `force` re-embeds all (a different model of
 * the same dimension). Documents are read page by page and written in small batches through the same
 * script as background embedding, so a document deleted meanwhile is skipped and every instance's index
 * picks the vectors up from the memory.embedded events. Safe to run twice; progress is reported per page.
 */
export interface ReembedProgress {
  /** Documents in the workspace when the run started. */
  total: number;
  /** Documents looked at so far (documents written during the run may or may not be seen). */
  scanned: number;
  /** Vectors written so far. */
  embedded: number;
}

export interface ReembedOptions {
  force: boolean;
  onProgress?: (progress: ReembedProgress) => Promise<void> | void;
}

/** Documents read per page; texts embedded per call (remote APIs cap a request's inputs). */
const PAGE = 500;
const BATCH = 64;

export class Reembedder {
  constructor(
    private readonly store: MemoryStore,
    private readonly embedder: Embedder,
  ) {}

  /** Re-embeds the tenants one after the other; progress counts the documents of all of them. */
  async run(tenants: readonly Tenant[], options: ReembedOptions): Promise<ReembedProgress> {
    const counts = await Promise.all(tenants.map((tenant) => this.store.documentCount(tenant)));
    const progress: ReembedProgress = {
      total: counts.reduce((sum, n) => sum + n, 0),
      scanned: 0,
      embedded: 0,
    };
    await options.onProgress?.({ ...progress });
    for (const tenant of tenants) await this.runOne(tenant, progress, options);
    return progress;
  }

  private async runOne(workspace: Tenant, progress: ReembedProgress, options: ReembedOptions): Promise<void> {
    const expectedBytes = this.embedder.dim * 4;
    // The persisted index snapshot holds the old vectors: a restore would replay every re-embedded
    // document's event (or find the stream trimmed past it). Dropped before and after the run.
    await this.store.dropIndexSnapshot(workspace);
    let cursor = '0';
    do {
      const page = await this.store.scanEmbeddable(workspace, cursor, PAGE);
      cursor = page.cursor;
      const due = page.docs.filter((d) => options.force || d.vectorBytes !== expectedBytes);
      for (let i = 0; i < due.length; i += BATCH) {
        const batch = due.slice(i, i + BATCH);
        const vectors = await this.embedder.embed(batch.map((d) => d.text));
        const byId = new Map<string, Float32Array>();
        batch.forEach((d, j) => byId.set(d.id, vectors[j] as Float32Array));
        progress.embedded += await this.store.setVectors(workspace, this.embedder.name, byId);
      }
      progress.scanned += page.docs.length;
      // Documents written during the run (or returned twice by HSCAN) can take the count past the start's.
      progress.total = Math.max(progress.total, progress.scanned);
      await options.onProgress?.({ ...progress });
    } while (cursor !== '0');
    await this.store.dropIndexSnapshot(workspace);
  }
}
