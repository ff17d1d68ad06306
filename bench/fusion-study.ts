import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadConversations, turnText } from './lib/locomo.js';
import path from 'node:path';
import { BuiltinEmbedder } from '../src/memory/embedders/builtin.js';
import type { Embedder } from '../src/memory/embedders/embedder.js';
import { OfflineEmbedder } from '../src/memory/embedders/offline.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { queryEntities } from '../src/memory/search/entities.js';
import { tokenize } from '../src/memory/search/tokenizer.js';
import { similarityOf } from '../src/memory/scoring.js';
import { WorkspaceIndex, type Candidate } from '../src/memory/search/workspace-index.js';
import { layerTenant } from '../src/tenant.js';

/**
 * How to fuse the BM25 and vector legs, measured rather than guessed: builds an in-process index per LoCoMo
 * conversation (same tokenizer, index and embedders as the service), collects both legs' candidates for
 * every question of categories 1-4, and compares fusion rules by Recall@10 over all conversations.
 * Embeddings of the offline model are cached under bench/results/.cache.
 *
 *   npx tsx bench/fusion-study.ts [builtin|offline]     (PER_LEG=50 sets the candidates kept per leg; default 200)
 */
const which = process.argv[2] ?? 'builtin';

async function embedAll(embedder: Embedder, texts: string[], cacheName: string): Promise<Float32Array[]> {
  const cacheDir = path.join(PROJECT_ROOT, 'bench', 'results', '.cache');
  const file = path.join(cacheDir, `${cacheName}-${texts.length}.json`);
  if (existsSync(file))
    return (JSON.parse(readFileSync(file, 'utf8')) as number[][]).map((v) => Float32Array.from(v));
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 64) out.push(...(await embedder.embed(texts.slice(i, i + 64))));
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(file, JSON.stringify(out.map((v) => Array.from(v))));
  return out;
}

type Rule = (c: Candidate, ctx: { maxBm25: number; noise: number }) => number;

const rescale = (cos: number | null, noise: number): number =>
  cos === null ? 0 : Math.max(0, (cos - noise) / (1 - noise));
const raw = (cos: number | null): number => Math.max(0, cos ?? 0);
const named = (c: Candidate, score: number): number => (c.mentionsEntity ? score : score * 0.5);
let vectorWeight = 0.5;
const rules: Record<string, Rule> = {
  'engine keyword': (c) => similarityOf(c, { lexical: true, vector: false }, vectorWeight),
  'engine vector': (c) => similarityOf(c, { lexical: false, vector: true }, vectorWeight),
  'engine hybrid': (c) => similarityOf(c, { lexical: true, vector: true }, vectorWeight),
  'bm25 plain': (c) => c.bm25Norm,
  'lin .2 rescaled': (c, x) => 0.8 * c.bm25Norm + 0.2 * rescale(c.cosine, x.noise),
  'lin .5 rescaled': (c, x) => 0.5 * c.bm25Norm + 0.5 * rescale(c.cosine, x.noise),
  'lin .1 raw+names': (c) => named(c, 0.9 * c.bm25Norm + 0.1 * raw(c.cosine)),
  'lin .2 raw+names': (c) => named(c, 0.8 * c.bm25Norm + 0.2 * raw(c.cosine)),
  'lin .35 raw+names': (c) => named(c, 0.65 * c.bm25Norm + 0.35 * raw(c.cosine)),
  'lin .5 raw+names': (c) => named(c, 0.5 * c.bm25Norm + 0.5 * raw(c.cosine)),
  'lin .6 raw+names': (c) => named(c, 0.4 * c.bm25Norm + 0.6 * raw(c.cosine)),
  'rrf 60': (c) => (c.bm25Rank ? 1 / (60 + c.bm25Rank) : 0) + (c.vectorRank ? 1 / (60 + c.vectorRank) : 0),
  'minmax 0.3': (c, x) => 0.7 * (c.bm25 / (x.maxBm25 || 1)) + 0.3 * rescale(c.cosine, x.noise),
};
const tops: Record<string, { answerable: number[]; adversarial: number[] }> = {};

async function main(): Promise<void> {
  const embedder: Embedder = which === 'offline' ? await OfflineEmbedder.start() : new BuiltinEmbedder();
  vectorWeight = embedder.vectorWeight;
  const hits: Record<string, number> = Object.fromEntries(Object.keys(rules).map((k) => [k, 0]));
  let evidenceTotal = 0;
  for (const conversation of loadConversations()) {
    const file = conversation.file;
    const turns = conversation.sessions.flatMap((s) => s.turns);
    const texts = turns.map(turnText);
    const vectors = await embedAll(embedder, texts, `${embedder.name}-${file}`);
    const index = new WorkspaceIndex(layerTenant(file), embedder.dim, 'int8');
    turns.forEach((t, i) => {
      index.upsert({ id: t.dia_id, kind: 'episodic', text: texts[i] as string, ts: 0, record: {} });
      index.setVector(t.dia_id, vectors[i] as Float32Array);
    });
    const questions = conversation.questions.filter((q) => q.category >= 1 && q.category <= 5);
    const qVectors = await embedAll(
      embedder,
      questions.map((q) => q.question),
      `${embedder.name}-${file}-questions`,
    );
    questions.forEach((q, qi) => {
      const evidence = q.evidence.filter((id) => index.get(id));
      if (evidence.length === 0) return;
      if (q.category !== 5) evidenceTotal += evidence.length;
      const result = index.search({
        tokens: tokenize(q.question),
        vector: qVectors[qi],
        kinds: ['episodic'],
        vectorFloor: embedder.noiseFloor,
        perLeg: Number(process.env.PER_LEG ?? 200),
        entities: queryEntities(q.question),
      });
      const maxBm25 = Math.max(0, ...result.candidates.map((c) => c.bm25));
      for (const [name, rule] of Object.entries(rules)) {
        const scored = result.candidates
          .map((c) => ({ id: c.doc.id, s: rule(c, { maxBm25, noise: embedder.noiseFloor }) }))
          .filter((x) => x.s > 0)
          .sort((a, b) => b.s - a.s)
          .slice(0, 10);
        const t = (tops[name] ??= { answerable: [], adversarial: [] });
        (q.category === 5 ? t.adversarial : t.answerable).push(scored[0]?.s ?? 0);
        if (q.category === 5) continue;
        const top = scored.map((x) => x.id);
        hits[name] = (hits[name] as number) + evidence.filter((id) => top.includes(id)).length;
      }
    });
  }
  await embedder.close();
  process.stdout.write(`Recall@10 on LoCoMo categories 1-4 with the ${embedder.name} embedder:\n`);
  for (const [name, h] of Object.entries(hits)) {
    // Abstention: the share of adversarial questions whose best score is below the threshold that keeps
    // 90% of the answerable questions.
    const t = tops[name] as { answerable: number[]; adversarial: number[] };
    const keep90 = [...t.answerable].sort((a, b) => a - b)[Math.floor(t.answerable.length * 0.1)] ?? 0;
    const abstained = t.adversarial.filter((s) => s < keep90).length / Math.max(1, t.adversarial.length);
    const sweep = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]
      .map((f) => {
        const kept = t.answerable.filter((s) => s >= f).length / Math.max(1, t.answerable.length);
        const abstain = t.adversarial.filter((s) => s < f).length / Math.max(1, t.adversarial.length);
        return `${f}:${(100 * kept).toFixed(0)}/${(100 * abstain).toFixed(0)}`;
      })
      .join(' ');
    process.stdout.write(
      `  ${name.padEnd(18)} R@10 ${(h / evidenceTotal).toFixed(4)}  abstains ${(100 * abstained).toFixed(1)}% of cat-5 at ${keep90.toFixed(3)} (keeps 90%)  floor:kept/abstained ${sweep}\n`,
    );
  }
}

void main();
