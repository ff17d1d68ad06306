import { tokenize } from './tokenizer.js';

/**
 * The names a query mentions: capitalised words that do not start a sentence ("What did Caroline say
 * about Python?" -> caroline, python), as index tokens. A memory that mentions none of them is probably
 * about someone or something else, however well its other words match; names are also more decisive than
 * their document frequency suggests (in a conversation log every line carries its speaker's name).
 */
export function queryEntities(query: string): string[] {
  const entities = new Set<string>();
  for (const sentence of query.split(/[.!?;:\n]+/)) {
    const words = sentence.trim().split(/\s+/).slice(1);
    for (const word of words) {
      if (!/^\p{Lu}/u.test(word)) continue;
      for (const token of tokenize(word)) entities.add(token);
    }
  }
  return [...entities];
}

/** Similarity kept by a memory that mentions none of the query's names. */
export const ENTITY_MISMATCH_FACTOR = 0.5;
