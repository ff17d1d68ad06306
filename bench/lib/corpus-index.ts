import { BuiltinEmbedder } from '../../src/memory/embedders/builtin.js';
import type { WorkspaceIndex } from '../../src/memory/search/workspace-index.js';
import type { Corpus } from './corpus.js';

/**
 * Fills an in-process index with `size` episodes of the synthetic corpus and their builtin vectors (the
 * in-process profiles: no HTTP, no Redis). Each record names one of ten users (`user0`..`user9`).
 */
export function fillCorpusIndex(index: WorkspaceIndex, corpus: Corpus, size: number): void {
  const embedder = new BuiltinEmbedder();
  for (let i = 0; i < size; i++) {
    const text = corpus.memory(i);
    index.upsert({
      id: `d${i}`,
      kind: 'episodic',
      text,
      ts: i,
      record: { id: `d${i}`, layer: 'episodic', content: text, user_id: `user${i % 10}` },
    });
    index.setVector(`d${i}`, embedder.embedOne(text));
  }
}
