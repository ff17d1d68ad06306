/**
 * Embedders turn text into unit-length vectors. One interface, three implementations (builtin, offline,
 * openai), picked by MNEMO_EMBEDDER in factory.ts.
 */
export interface Embedder {
  /** Name and dimension stamp stored with vectors, e.g. "builtin-256". */
  readonly name: string;
  readonly dim: number;
  /**
   * True when embedding is fast enough (microseconds) to happen on the write path. Otherwise documents are
   * embedded by a background job and are found by BM25 until then.
   */
  readonly inline: boolean;
  /** Cosine similarity at or below which two texts are unrelated for this embedder. */
  readonly noiseFloor: number;
  /**
   * Share of the vector match in hybrid similarity: small for a lexical embedder whose vectors mostly repeat
   * what BM25 already knows, larger for a semantic model.
   */
  readonly vectorWeight: number;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Releases workers or connections. */
  close(): Promise<void>;
}

export class EmbedderUnavailable extends Error {
  override name = 'EmbedderUnavailable';
}
