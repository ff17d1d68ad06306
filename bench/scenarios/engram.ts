import { Corpus } from '../lib/corpus.js';
import { runLoad, type RequestSpec } from '../lib/load.js';
import { orgMember } from '../lib/engram-org.js';
import type { ScenarioContext } from './types.js';

/**
 * Engram API: an organisation with one editor, 10k engrams (3k with --quick) in the organisation scope,
 * then recall (hybrid) and inject (2,000-token budget) through the user's key.
 */
const DOMAINS = [
  'software.deployment',
  'software.testing',
  'ops.incidents',
  'data.migrations',
  'team.process',
];
const TYPES = ['behavioral', 'terminological', 'procedural', 'architectural'];

/** Creates an organisation with one editor and `size` engrams; returns a request builder with its key. */
export async function seedEngrams(
  ctx: Pick<ScenarioContext, 'url' | 'run'>,
  size: number,
): Promise<{ post: (path: string, body: unknown) => RequestSpec; corpus: Corpus }> {
  const org = `${ctx.run}-org`;
  const { post } = await orgMember(ctx.url, org, 'bench', 'editor');
  const corpus = new Corpus(11);

  const started = performance.now();
  const seeded = await runLoad({
    origin: ctx.url,
    concurrency: 64,
    requests: size,
    expectStatus: 201,
    request: (i) =>
      post('/api/v1/engrams', {
        statement: `${corpus.memory(i + 1)} (rule ${i})`,
        type: TYPES[i % TYPES.length],
        scope: `org:${org}`,
        domain: DOMAINS[i % DOMAINS.length],
        tags: [corpus.word(), corpus.word()],
      }),
  });
  if (seeded.errors > 0) throw new Error(`seeding engrams had ${seeded.errors} errors`);
  process.stderr.write(`seeded ${size} engrams in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return { post, corpus };
}

export async function engramScenarios(ctx: ScenarioContext): Promise<void> {
  const size = ctx.quick ? 3000 : 10_000;
  const label = `${size / 1000}k`;
  const { post, corpus } = await seedEngrams(ctx, size);

  let q = 0;
  const recall = (): RequestSpec =>
    post('/api/v1/recall', { query: corpus.query(q++), mode: 'hybrid', limit: 10 });
  ctx.record(
    `engram_recall_${label}`,
    1,
    await runLoad({ origin: ctx.url, concurrency: 1, requests: ctx.c1Requests, warmup: 50, request: recall }),
  );
  ctx.record(
    `engram_recall_${label}`,
    32,
    await runLoad({ origin: ctx.url, concurrency: 32, durationMs: ctx.durationMs, request: recall }),
  );
  const inject = (): RequestSpec => post('/api/v1/inject', { task: corpus.query(q++), budget: 2000 });
  ctx.record(
    `inject_${label}`,
    1,
    await runLoad({ origin: ctx.url, concurrency: 1, requests: ctx.c1Requests, warmup: 50, request: inject }),
  );
  ctx.record(
    `inject_${label}`,
    32,
    await runLoad({ origin: ctx.url, concurrency: 32, durationMs: ctx.durationMs, request: inject }),
  );
}
