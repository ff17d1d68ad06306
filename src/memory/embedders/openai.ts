import { normalize } from '../search/vector-store.js';
import { EmbedderUnavailable, type Embedder } from './embedder.js';

/**
 * Any OpenAI-compatible /embeddings endpoint (OpenAI, Azure-style gateways, Ollama, vLLM, TEI). The base
 * URL is the part before /embeddings, e.g. https://api.openai.com/v1 or http://localhost:11434/v1.
 */
export interface OpenAiEmbedderOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  dim: number;
  timeoutMs: number;
  batchSize?: number;
}

interface EmbeddingsResponse {
  data?: { index?: number; embedding?: number[] }[];
}

export class OpenAiEmbedder implements Embedder {
  readonly name: string;
  readonly dim: number;
  readonly inline = false;
  readonly vectorWeight = 0.5;
  readonly noiseFloor = 0.2;

  constructor(private readonly options: OpenAiEmbedderOptions) {
    this.dim = options.dim;
    this.name = `openai:${options.model}-${options.dim}`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const batch = this.options.batchSize ?? 96;
    for (let i = 0; i < texts.length; i += batch)
      out.push(...(await this.request(texts.slice(i, i + batch), signal)));
    return out;
  }

  private async request(input: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: this.options.model, input, encoding_format: 'float' }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new EmbedderUnavailable(`embeddings endpoint ${url} unreachable: ${(err as Error).message}`);
    }
    if (!response.ok) {
      throw new EmbedderUnavailable(
        `embeddings endpoint answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
      );
    }
    const body = (await response.json()) as EmbeddingsResponse;
    const rows = [...(body.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    if (rows.length !== input.length)
      throw new EmbedderUnavailable(`expected ${input.length} embeddings, got ${rows.length}`);
    return rows.map((row) => {
      const vector = Float32Array.from(row.embedding ?? []);
      if (vector.length !== this.dim) {
        throw new EmbedderUnavailable(
          `embedding has ${vector.length} dimensions; MNEMO_EMBEDDING_DIM is ${this.dim}`,
        );
      }
      return normalize(vector);
    });
  }

  async close(): Promise<void> {}
}
