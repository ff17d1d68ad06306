import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../src/paths.js';
import { Corpus } from './lib/corpus.js';
import { runLoad, type RequestSpec } from './lib/load.js';
import { layerKey, startRedis, startService } from './lib/stack.js';
import { seedEngrams } from './scenarios/engram.js';

/**
 * Profiles the built service under one load: `npx tsx bench/profile-service.ts
 * <recall|remember|context|coldstart|inject|engram-recall>
 * [docs]` starts redis and mnemo with --cpu-prof, seeds, runs the load at concurrency 32 for 10 s, and
 * leaves the .cpuprofile in /tmp/mnemo-prof (open it in Chrome DevTools or speedscope).
 */
const scenario = process.argv[2] ?? 'recall';
const docs = Number(process.argv[3] ?? 10_000);

async function main(): Promise<void> {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const redis = await startRedis();
  const service = await startService(
    redis.url,
    {},
    scenario === 'coldstart' ? [] : ['--cpu-prof', '--cpu-prof-dir=/tmp/mnemo-prof'],
  );
  try {
    const key = await layerKey(service.url, 'profile');
    const corpus = new Corpus(3);
    const auth = { authorization: `Bearer ${key}` };
    const post = (path: string, body: unknown): RequestSpec => ({
      method: 'POST',
      path,
      headers: auth,
      body: JSON.stringify(body),
    });
    if (scenario === 'inject' || scenario === 'engram-recall') {
      const engrams = await seedEngrams({ url: service.url, run: 'profile' }, docs);
      let n = 0;
      const result = await runLoad({
        origin: service.url,
        concurrency: 32,
        durationMs: 10_000,
        request: () =>
          scenario === 'inject'
            ? engrams.post('/api/v1/inject', { task: engrams.corpus.query(n++), budget: 2000 })
            : engrams.post('/api/v1/recall', { query: engrams.corpus.query(n++), limit: 10 }),
      });
      process.stdout.write(`${scenario}: ${result.rps.toFixed(0)} req/s, ${result.errors} errors\n`);
      return;
    }
    await runLoad({
      origin: service.url,
      concurrency: 64,
      requests: docs,
      request: (i) => post('/v1/remember', { content: corpus.memory(i) }),
    });
    if (scenario === 'coldstart') {
      // A second instance builds the index on its first recall; the profile is of that instance.
      const fresh = await startService(redis.url, {}, ['--cpu-prof', '--cpu-prof-dir=/tmp/mnemo-prof']);
      const started = performance.now();
      const res = await fetch(`${fresh.url}/v1/recall`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'project deploy' }),
      });
      await res.text();
      process.stdout.write(
        `first recall on a fresh instance: ${(performance.now() - started).toFixed(0)} ms\n`,
      );
      await fresh.stop();
      return;
    }
    let q = 0;
    const spec = (): RequestSpec =>
      scenario === 'remember'
        ? post('/v1/remember', { content: corpus.memory(q++) })
        : scenario === 'context'
          ? post('/v1/context', { query: corpus.query(q++) })
          : post('/v1/recall', { query: corpus.query(q++), top_k: 10 });
    const result = await runLoad({ origin: service.url, concurrency: 32, durationMs: 10_000, request: spec });
    process.stdout.write(`${scenario}: ${result.rps.toFixed(0)} req/s, ${result.errors} errors\n`);
  } finally {
    await service.stop();
    await redis.stop();
  }
}

void main();
