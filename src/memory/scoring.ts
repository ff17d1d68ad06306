/**
 * The layer API's ranking: score = ws·similarity + wr·recency + wi·importance (weights from config, summing
 * to 1), with recency = exp(-λ·hours since written). Similarity is on one 0–1 scale for every layer: the
 * lexical match (BM25 relative to the query's full term weight) blended with the vector match (cosine
 * rescaled above the embedder's noise floor). Without a query vector similarity is the lexical match alone.
 */
export interface ScoreWeights {
  similarity: number;
  recency: number;
  importance: number;
}

/** Share of the vector leg in similarity when both legs are available. */
export const VECTOR_SHARE = 0.5;

export function vectorSimilarity(cosine: number | null, noiseFloor: number): number {
  if (cosine === null) return 0;
  return Math.min(1, Math.max(0, (cosine - noiseFloor) / (1 - noiseFloor)));
}

/** Similarity from the legs that ran: both blended, or whichever ran alone. */
export function similarityOf(
  bm25Norm: number,
  cosine: number | null,
  noiseFloor: number,
  legs: { lexical: boolean; vector: boolean },
): number {
  if (!legs.vector) return bm25Norm;
  const vector = vectorSimilarity(cosine, noiseFloor);
  if (!legs.lexical) return vector;
  return (1 - VECTOR_SHARE) * bm25Norm + VECTOR_SHARE * vector;
}

export function recencyOf(createdMs: number, nowMs: number, lambdaPerHour: number): number {
  const hours = Math.max(0, (nowMs - createdMs) / 3_600_000);
  return Math.exp(-lambdaPerHour * hours);
}

export function scoreOf(similarity: number, recency: number, importance: number, w: ScoreWeights): number {
  return Math.min(1, w.similarity * similarity + w.recency * recency + w.importance * importance);
}

export const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;
