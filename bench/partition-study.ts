import { BuiltinEmbedder } from '../src/memory/embedders/builtin.js';
import { passesFloor, similarityOf } from '../src/memory/scoring.js';
import { tokenize } from '../src/memory/search/tokenizer.js';
import type { PartitionPolicy } from '../src/memory/search/vector-store.js';
import { WorkspaceIndex, type Candidate } from '../src/memory/search/workspace-index.js';
import { layerTenant } from '../src/tenant.js';
import { Corpus } from './lib/corpus.js';
import { fillCorpusIndex } from './lib/corpus-index.js';

// What partitioning the vectors (vector-partitions.ts) costs in quality and saves in time, in process on
// the synthetic corpus with the builtin embedder (no HTTP, no Redis):
//   npx tsx bench/partition-study.ts [docs] [scan fractions, comma-separated]
// For each scan fraction: the vector leg's recall@10 against the exact scan, the share of the final
// top 10 (similarity as recall ranks it, floor included) that is unchanged, and ms per query.
const size = Number(process.argv[2] ?? 200_000);
const fractions = (process.argv[3] ?? '0.05,0.1,0.2,0.4').split(',').map(Number);
const embedder = new BuiltinEmbedder();
const policy: PartitionPolicy = { minVectors: 1, scan: 1 };
const index = new WorkspaceIndex(layerTenant('p'), embedder.dim, 'int8', policy);
let t = performance.now();
fillCorpusIndex(index, new Corpus(7), size);
console.log(`build ${size}: ${(performance.now() - t).toFixed(0)} ms`);
const queryCorpus = new Corpus(19);
const texts = Array.from({ length: 300 }, (_, i) => queryCorpus.query(i));
const vectors = texts.map((text) => embedder.embedOne(text));
const base = { kinds: ['episodic'] as const, vectorFloor: embedder.noiseFloor, perLeg: 200 };
const legs = { lexical: true, vector: true };
const finalTop = (candidates: Candidate[]): string[] =>
  candidates
    .map((c) => ({ id: c.doc.id, c, s: similarityOf(c, legs, embedder.vectorWeight) }))
    .filter(({ c, s }) => passesFloor(c, legs, s, 0.12))
    .sort((a, b) => b.s - a.s)
    .slice(0, 10)
    .map(({ id }) => id);
const run = (): { leg: string[][]; final: string[][]; ms: number } => {
  const leg: string[][] = [];
  const final: string[][] = [];
  t = performance.now();
  texts.forEach((text, i) => {
    const vector = vectors[i] as Float32Array;
    leg.push(
      index
        .search({ ...base, tokens: [], vector })
        .candidates.slice(0, 10)
        .map((c) => c.doc.id),
    );
    final.push(finalTop(index.search({ ...base, tokens: tokenize(text), vector }).candidates));
  });
  return { leg, final, ms: (performance.now() - t) / texts.length };
};
const overlap = (a: string[][], b: string[][]): number => {
  let same = 0;
  let total = 0;
  a.forEach((list, i) => {
    const other = new Set(b[i]);
    same += list.filter((id) => other.has(id)).length;
    total += list.length;
  });
  return total === 0 ? 1 : same / total;
};
const exact = run();
console.log(`exact: vector leg + hybrid ${exact.ms.toFixed(2)} ms per query`);
t = performance.now();
await index.vectors.partitionIfDue();
console.log(`partitioned in ${(performance.now() - t).toFixed(0)} ms`);
for (const scan of fractions) {
  policy.scan = scan;
  const got = run();
  console.log(
    `scan ${scan}: vector leg recall@10 ${overlap(exact.leg, got.leg).toFixed(3)}, final top 10 unchanged ${overlap(exact.final, got.final).toFixed(4)}, ${got.ms.toFixed(2)} ms per query (vector leg + hybrid)`,
  );
}
