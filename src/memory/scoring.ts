import { ENTITY_MISMATCH_FACTOR } from './search/entities.js';

/**
 * The layer API's ranking: score = ws·similarity + wr·recency + wi·importance (weights from config, summing
 * to 1), with recency = exp(-λ·hours since written). Similarity is on one 0–1 scale for every layer: the
 * lexical match (BM25 relative to the query's full term weight) blended with the cosine of the embeddings,
 * the blend weighted by how much meaning the embedder carries, and halved for a memory that mentions none of
 * the names the query mentions. The blend and the name rule were chosen by measurement on the LoCoMo
 * development split (bench/fusion-study.ts); see the README's quality table.
 */
export interface ScoreWeights {
  similarity: number;
  recency: number;
  importance: number;
}

export interface SimilarityInput {
  bm25Norm: number;
  cosine: number | null;
  mentionsEntity: boolean;
}

/** Similarity from the legs that ran: both blended, or whichever ran alone. */
export function similarityOf(
  candidate: SimilarityInput,
  legs: { lexical: boolean; vector: boolean },
  vectorWeight: number,
): number {
  const vector = Math.max(0, candidate.cosine ?? 0);
  let similarity: number;
  if (!legs.vector) similarity = candidate.bm25Norm;
  else if (!legs.lexical) similarity = vector;
  else similarity = (1 - vectorWeight) * candidate.bm25Norm + vectorWeight * vector;
  return candidate.mentionsEntity ? similarity : similarity * ENTITY_MISMATCH_FACTOR;
}

/**
 * Whether a candidate is relevant enough to be returned at all. The floor is on the blended similarity,
 * except that adding the vector leg never drops a memory the lexical leg alone would keep: hybrid recall
 * returns at least what keyword recall returns (a weak lexical match with a low cosine would otherwise
 * fall under the floor by the blend alone). The vector leg gets no such rescue: a cosine alone above the
 * floor is too often noise for lexical embedders, and nonsense queries must still return nothing.
 */
export function passesFloor(
  candidate: SimilarityInput,
  legs: { lexical: boolean; vector: boolean },
  similarity: number,
  floor: number,
): boolean {
  if (similarity >= floor) return true;
  return legs.lexical && legs.vector && similarityOf(candidate, LEXICAL_ONLY, 0) >= floor;
}

const LEXICAL_ONLY = { lexical: true, vector: false };

export function recencyOf(createdMs: number, nowMs: number, lambdaPerHour: number): number {
  const hours = Math.max(0, (nowMs - createdMs) / 3_600_000);
  return Math.exp(-lambdaPerHour * hours);
}

export function scoreOf(similarity: number, recency: number, importance: number, w: ScoreWeights): number {
  return Math.min(1, w.similarity * similarity + w.recency * recency + w.importance * importance);
}

export const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;
