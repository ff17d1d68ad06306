import { tokenize } from '../search/tokenizer.js';
import { normalize } from '../search/vector-store.js';
import type { Embedder } from './embedder.js';

/**
 * The default embedder: deterministic feature hashing, no model, a few microseconds per text. Each stemmed
 * token adds to one signed bucket and its character trigrams add smaller weights to others, so texts
 * sharing words or word parts ("deploy", "deployment") point the same way. It is lexical, not semantic:
 * it makes the vector leg useful for fuzzy matches and keeps tests fast and reproducible. Use the offline
 * model or an embeddings endpoint for meaning.
 */
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.35;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class BuiltinEmbedder implements Embedder {
  readonly name: string;
  readonly inline = true;
  readonly vectorWeight = 0.2;
  readonly noiseFloor = 0.2;

  /**
   * 128 dimensions: on LoCoMo, 256 gained 0.1 point of Recall@10 in hybrid search (bench/fusion-study.ts)
   * while doubling the vector scan, which dominates recall on large workspaces.
   */
  constructor(readonly dim = 128) {
    this.name = `builtin-${dim}`;
  }

  embedOne(text: string): Float32Array {
    const vector = new Float32Array(this.dim);
    for (const token of tokenize(text)) {
      this.add(vector, `w:${token}`, WORD_WEIGHT);
      const padded = `#${token}#`;
      if (padded.length > 4) {
        for (let i = 0; i + 3 <= padded.length; i++) this.add(vector, padded.slice(i, i + 3), TRIGRAM_WEIGHT);
      }
    }
    return normalize(vector);
  }

  private add(vector: Float32Array, feature: string, weight: number): void {
    const hash = fnv1a(feature);
    const bucket = hash % this.dim;
    vector[bucket] = (vector[bucket] as number) + (hash & 0x80000000 ? -weight : weight);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  async close(): Promise<void> {}
}
