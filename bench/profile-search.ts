import { BuiltinEmbedder } from '../src/memory/embedders/builtin.js';
import { tokenize } from '../src/memory/search/tokenizer.js';
import { WorkspaceIndex } from '../src/memory/search/workspace-index.js';
import { Corpus } from './lib/corpus.js';
import { fillCorpusIndex } from './lib/corpus-index.js';
import { layerTenant } from '../src/tenant.js';

// In-process timing of the search phases on a synthetic workspace (no HTTP, no Redis):
//   npx tsx bench/profile-search.ts [docs] [float32|int8]
const size = Number(process.argv[2] ?? 10_000);
const precision = (process.argv[3] ?? 'int8') as 'int8' | 'float32';
// A 4th argument partitions the vectors, each query scanning that share of them (MNEMO_VECTOR_PARTITION_SCAN).
const scan = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const corpus = new Corpus(7);
const embedder = new BuiltinEmbedder();
const index = new WorkspaceIndex(
  layerTenant('p'),
  embedder.dim,
  precision,
  scan === undefined ? undefined : { minVectors: 1, scan },
);
let t = performance.now();
fillCorpusIndex(index, corpus, size);
console.log(`build ${size}: ${(performance.now() - t).toFixed(0)} ms`);
if (scan !== undefined) {
  t = performance.now();
  await index.vectors.partitionIfDue();
  console.log(`partition: ${(performance.now() - t).toFixed(0)} ms (scanning ${scan} of the vectors)`);
}
const queries = Array.from({ length: 300 }, (_, i) => corpus.query(i));
const time = (name: string, fn: (q: string) => unknown): void => {
  for (const q of queries.slice(0, 30)) fn(q);
  const start = performance.now();
  for (const q of queries) fn(q);
  console.log(`${name.padEnd(22)} ${((performance.now() - start) / queries.length).toFixed(3)} ms/query`);
};
time('tokenize', (q) => tokenize(q));
time('embed query', (q) => embedder.embedOne(q));
const vectors = new Map(queries.map((q) => [q, embedder.embedOne(q)]));
const base = {
  kinds: ['working', 'episodic', 'semantic'] as const,
  vectorFloor: embedder.noiseFloor,
  perLeg: 200,
};
time('bm25 only', (q) => index.search({ ...base, tokens: tokenize(q) }));
time('vector only', (q) => index.search({ ...base, tokens: [], vector: vectors.get(q) }));
time('hybrid', (q) => index.search({ ...base, tokens: tokenize(q), vector: vectors.get(q) }));
time('hybrid, one in ten accepted', (q) =>
  index.search({ ...base, tokens: tokenize(q), vector: vectors.get(q), accept: (d) => d.ts % 10 === 0 }),
);
// The filter recall passes (recall-service.ts acceptFor), reading each matching record or only those of
// the kinds it concerns.
const recallFilter = (d: { kind: string; record: Record<string, unknown> }): boolean =>
  !(d.kind === 'working' && typeof d.record.expires_at === 'number' && d.record.expires_at <= 0) &&
  !(d.kind === 'semantic' && d.record.status === 'superseded');
time('hybrid, recall filter', (q) =>
  index.search({ ...base, tokens: tokenize(q), vector: vectors.get(q), accept: recallFilter }),
);
time('hybrid, recall filter by kind', (q) =>
  index.search({
    ...base,
    tokens: tokenize(q),
    vector: vectors.get(q),
    accept: recallFilter,
    acceptKinds: ['working', 'semantic'],
  }),
);
// One user of ten (a multi-user workspace): the filter recall used to pass, reading each candidate's
// record, against the index's interned owners (slot-owners.ts).
time('hybrid, user filter, records', (q) =>
  index.search({
    ...base,
    tokens: tokenize(q),
    vector: vectors.get(q),
    accept: (d) => d.record.user_id === 'user3',
  }),
);
time('hybrid, user filter, owners', (q) =>
  index.search({
    ...base,
    tokens: tokenize(q),
    vector: vectors.get(q),
    owner: { userId: 'user3', agentId: null },
    accept: recallFilter,
    acceptKinds: ['working', 'semantic'],
  }),
);
