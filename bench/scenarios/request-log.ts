import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/paths.js';
import { Corpus } from '../lib/corpus.js';
import { runLoad, type RequestSpec } from '../lib/load.js';
import { layerKey, startRedis, startService } from '../lib/stack.js';

/**
 * `npm run bench -- --request-log [--quick]`: the cost of the request log. Runs the built service with
 * MNEMO_LOG_REQUESTS=off and =all (log level info, stdout a pipe read by this process), twice each,
 * alternating so drift on a noisy machine hits both, and reports remember and recall throughput at
 * concurrency 32 (best of the two runs of each mode).
 */
export async function requestLogStudy(quick: boolean): Promise<void> {
  const durationMs = quick ? 3000 : 8000;
  const redis = await startRedis();
  execFileSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const best: Record<string, { remember: number; recall: number }> = {};
  try {
    for (const mode of ['off', 'all', 'off', 'all'] as const) {
      const service = await startService(redis.url, { MNEMO_LOG_REQUESTS: mode, MNEMO_LOG_LEVEL: 'info' });
      try {
        const corpus = new Corpus(11);
        const key = await layerKey(service.url, `rl-${mode}-${Date.now().toString(36)}`);
        let n = 0;
        const post = (path: string, body: unknown): RequestSpec => ({
          method: 'POST',
          path,
          headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify(body),
        });
        const remember = await runLoad({
          origin: service.url,
          concurrency: 32,
          durationMs,
          warmup: 200,
          request: () => post('/v1/remember', { content: corpus.memory(n++), user_id: `u${n % 20}` }),
        });
        let q = 0;
        const recall = await runLoad({
          origin: service.url,
          concurrency: 32,
          durationMs,
          warmup: 200,
          request: () => post('/v1/recall', { query: corpus.query(q++), top_k: 10 }),
        });
        process.stderr.write(
          `log ${mode.padEnd(3)}  remember ${remember.rps.toFixed(0)} req/s (${remember.errors} errors)  recall ${recall.rps.toFixed(0)} req/s (${recall.errors} errors)\n`,
        );
        const seen = (best[mode] ??= { remember: 0, recall: 0 });
        seen.remember = Math.max(seen.remember, remember.rps);
        seen.recall = Math.max(seen.recall, recall.rps);
      } finally {
        await service.stop();
      }
    }
  } finally {
    await redis.stop();
  }
  const off = best.off as { remember: number; recall: number };
  const all = best.all as { remember: number; recall: number };
  const change = (a: number, b: number): string => `${(((a - b) / b) * 100).toFixed(1)}%`;
  process.stdout.write(
    [
      '| MNEMO_LOG_REQUESTS | remember req/s (c=32) | recall req/s (c=32) |',
      '| --- | ---: | ---: |',
      `| off | ${off.remember.toFixed(0)} | ${off.recall.toFixed(0)} |`,
      `| all | ${all.remember.toFixed(0)} | ${all.recall.toFixed(0)} |`,
      `| change | ${change(all.remember, off.remember)} | ${change(all.recall, off.recall)} |`,
      '',
    ].join('\n'),
  );
}
