import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths.js';
import { percentile } from './lib/load.js';
import { LOCOMO_DIR, loadConversations, turnText, type Conversation } from './lib/locomo.js';
import { BENCH_ADMIN_KEY, layerKey, startRedis, startService, type ServiceProcess } from './lib/stack.js';

/**
 * `npm run bench:quality`: retrieval quality on the LoCoMo development split (../shared/bench/locomo).
 * For each embedder (builtin; offline when its optional packages are installed; openai when
 * MNEMO_EMBEDDING_URL is set) and each conversation, a fresh workspace receives every turn as a memory
 * ("<speaker>: <text>", the session's date as its time, the dia_id in its metadata); then each question is
 * recalled from the episodic layer in keyword, vector and hybrid mode. Reports Recall@5, Recall@10 and MRR
 * per category and overall (categories 1-4), abstention on category 5 (adversarial: the answer is not in
 * the conversation), ingest time and per-query latency. Writes bench/results/quality.json.
 */
type Mode = 'keyword' | 'vector' | 'hybrid';
const MODES: Mode[] = ['keyword', 'vector', 'hybrid'];
const CATEGORIES = [1, 2, 3, 4];
const CATEGORY_NAMES: Record<number, string> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
};
const ABSTAIN_THRESHOLDS = [0.2, 0.3, 0.4, 0.5];

const args = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
async function api(
  url: string,
  token: string,
  p: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url + p, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function waitForVectors(url: string, token: string, workspace: string): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    await api(url, token, '/v1/recall', { query: 'warm up', top_k: 1 }); // loads and catches up the index
    const res = await fetch(`${url}/admin/metrics`, {
      headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` },
    });
    const metrics = (await res.json()) as {
      indexes: { by_workspace: { workspace: string; docs: number; vectors: number }[] };
    };
    const w = metrics.indexes.by_workspace.find((x) => x.workspace === workspace);
    if (w && w.vectors >= w.docs) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vectors of ${workspace} never completed`);
}

interface Tally {
  evidence: number;
  hits5: number;
  hits10: number;
  reciprocal: number;
  questions: number;
}
const tally = (): Tally => ({ evidence: 0, hits5: 0, hits10: 0, reciprocal: 0, questions: 0 });
const summary = (t: Tally) => ({
  recall_at_5: round(t.hits5 / Math.max(1, t.evidence)),
  recall_at_10: round(t.hits10 / Math.max(1, t.evidence)),
  mrr: round(t.reciprocal / Math.max(1, t.questions)),
  questions: t.questions,
});
const round = (v: number): number => Math.round(v * 10_000) / 10_000;

async function evaluate(
  embedder: string,
  service: ServiceProcess,
  conversations: Conversation[],
  run: string,
) {
  const tallies: Record<Mode, Record<number, Tally>> = { keyword: {}, vector: {}, hybrid: {} };
  const overall: Record<Mode, Tally> = { keyword: tally(), vector: tally(), hybrid: tally() };
  const latencies: Record<Mode, number[]> = { keyword: [], vector: [], hybrid: [] };
  const abstention: Record<string, { cat5: number; answerable: number }> = {};
  let cat5 = 0;
  let answerable = 0;
  const emptyCat5: Record<Mode, number> = { keyword: 0, vector: 0, hybrid: 0 };
  let ingestMs = 0;
  let turnsTotal = 0;

  for (const conversation of conversations) {
    const workspace = `${run}-${embedder}-${conversation.file.replace(/\W/g, '')}`.slice(0, 64);
    const token = await layerKey(service.url, workspace);
    const started = performance.now();
    const known = new Set<string>();
    for (const session of conversation.sessions) {
      for (const turn of session.turns) {
        known.add(turn.dia_id);
        const res = await api(service.url, token, '/v1/remember', {
          content: turnText(turn).slice(0, 8000),
          created_at: session.date.toISOString(),
          metadata: { dia_id: turn.dia_id },
          agent_id: 'locomo',
        });
        if (res.status !== 200) throw new Error(`remember failed: ${res.status} ${JSON.stringify(res.json)}`);
        turnsTotal++;
      }
    }
    if (embedder !== 'builtin') await waitForVectors(service.url, token, workspace);
    ingestMs += performance.now() - started;

    for (const qa of conversation.questions) {
      const evidence = qa.evidence.filter((id) => known.has(id));
      for (const mode of MODES) {
        const started = performance.now();
        const res = await api(service.url, token, '/v1/recall', {
          query: qa.question.slice(0, 500),
          top_k: 10,
          layers: ['episodic'],
          mode,
        });
        latencies[mode].push(performance.now() - started);
        const results = (res.json.results ?? []) as { similarity: number; metadata: { dia_id?: string } }[];
        if (qa.category === 5) {
          if (mode === 'hybrid') {
            cat5++;
            const top = results[0]?.similarity ?? 0;
            for (const t of ABSTAIN_THRESHOLDS) {
              const entry = (abstention[String(t)] ??= { cat5: 0, answerable: 0 });
              if (top < t) entry.cat5++;
            }
          }
          if (results.length === 0) emptyCat5[mode]++;
          continue;
        }
        if (!CATEGORIES.includes(qa.category) || evidence.length === 0) continue;
        if (mode === 'hybrid') {
          answerable++;
          const top = results[0]?.similarity ?? 0;
          for (const t of ABSTAIN_THRESHOLDS) {
            const entry = (abstention[String(t)] ??= { cat5: 0, answerable: 0 });
            if (top >= t) entry.answerable++;
          }
        }
        const ranks = results.map((r) => r.metadata.dia_id);
        const cat = (tallies[mode][qa.category] ??= tally());
        for (const t of [cat, overall[mode]]) {
          t.questions++;
          t.evidence += evidence.length;
          t.hits5 += evidence.filter((id) => ranks.slice(0, 5).includes(id)).length;
          t.hits10 += evidence.filter((id) => ranks.includes(id)).length;
          const first = ranks.findIndex((id) => id !== undefined && evidence.includes(id));
          t.reciprocal += first >= 0 ? 1 / (first + 1) : 0;
        }
      }
    }
  }

  const byMode = Object.fromEntries(
    MODES.map((mode) => {
      const sorted = Float64Array.from(latencies[mode]).sort();
      return [
        mode,
        {
          overall: summary(overall[mode]),
          by_category: Object.fromEntries(
            CATEGORIES.map((c) => [CATEGORY_NAMES[c], summary(tallies[mode][c] ?? tally())]),
          ),
          latency_p50_ms: round(percentile(sorted, 50)),
          latency_p95_ms: round(percentile(sorted, 95)),
          category5_empty_ratio: round(emptyCat5[mode] / Math.max(1, cat5)),
        },
      ];
    }),
  );
  return {
    turns: turnsTotal,
    ingest_seconds: round(ingestMs / 1000),
    modes: byMode,
    abstention_by_top_similarity: Object.fromEntries(
      Object.entries(abstention).map(([t, v]) => [
        t,
        {
          category5_abstained: round(v.cat5 / Math.max(1, cat5)),
          answerable_kept: round(v.answerable / Math.max(1, answerable)),
        },
      ]),
    ),
  };
}

function embeddersToRun(): { name: string; env: Record<string, string> }[] {
  const out = [{ name: 'builtin', env: { MNEMO_EMBEDDER: 'builtin' } }];
  const offline = existsSync(path.join(PROJECT_ROOT, 'node_modules', '@energetic-ai', 'model-embeddings-en'));
  if (offline) out.push({ name: 'offline', env: { MNEMO_EMBEDDER: 'offline' } });
  if (process.env.MNEMO_EMBEDDING_URL) out.push({ name: 'openai', env: { MNEMO_EMBEDDER: 'openai' } });
  const only = argValue('--embedders')?.split(',');
  return only ? out.filter((e) => only.includes(e.name)) : out;
}

async function main(): Promise<void> {
  const dataDir = argValue('--locomo-dir') ?? LOCOMO_DIR;
  if (!existsSync(dataDir)) throw new Error(`LoCoMo data not found at ${dataDir} (use --locomo-dir)`);
  const conversations = loadConversations(dataDir);
  execFileSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const redis = await startRedis();
  const run = `q${Date.now().toString(36)}`;
  const results: Record<string, unknown> = {};
  try {
    for (const embedder of embeddersToRun()) {
      process.stderr.write(
        `evaluating the ${embedder.name} embedder on ${conversations.length} conversations...\n`,
      );
      const service = await startService(redis.url, {
        ...embedder.env,
        MNEMO_KEY_PREFIX: `${run}${embedder.name}`,
      });
      try {
        results[embedder.name] = await evaluate(embedder.name, service, conversations, run);
      } finally {
        await service.stop();
      }
    }
  } finally {
    await redis.stop();
  }
  const output = {
    dataset: 'LoCoMo development split',
    conversations: conversations.map((c) => c.file),
    date: new Date().toISOString(),
    embedders: results,
  };
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'quality.json'), `${JSON.stringify(output, null, 2)}\n`);
  printTable(results);
}

function printTable(results: Record<string, unknown>): void {
  const lines = [
    '| embedder | mode | R@5 | R@10 | MRR | p50 ms | cat-5 empty |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [embedder, r] of Object.entries(results) as [string, Awaited<ReturnType<typeof evaluate>>][]) {
    for (const mode of MODES) {
      const m = r.modes[mode] as {
        overall: ReturnType<typeof summary>;
        latency_p50_ms: number;
        category5_empty_ratio: number;
      };
      lines.push(
        `| ${embedder} | ${mode} | ${m.overall.recall_at_5} | ${m.overall.recall_at_10} | ${m.overall.mrr} | ${m.latency_p50_ms} | ${m.category5_empty_ratio} |`,
      );
    }
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
