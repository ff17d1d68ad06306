import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../../src/net.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/redis/embedded.js';

/**
 * What the benchmark measures against: its own redis-server and mnemo processes (the built service,
 * `node dist/src/main.js`, as users run it), or given URLs.
 */
export const BENCH_ADMIN_KEY = 'plm_admin_bench_0123456789abcdef0123456789abcdef';

export interface ServiceProcess {
  url: string;
  port: number;
  pid: number;
  /** Resident memory of the process, from /proc. */
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<{
  url: string;
  redis: EmbeddedRedis;
  dir: string;
  stop(): Promise<void>;
}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-bench-redis-'));
  const redis = await startEmbeddedRedis({
    bin: process.env.MNEMO_REDIS_SERVER ?? 'redis-server',
    dataDir: dir,
    log: silentLogger,
  });
  return {
    url: redis.url,
    redis,
    dir,
    stop: async () => {
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startService(
  redisUrl: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ServiceProcess> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-bench-data-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, path.join(PROJECT_ROOT, 'dist/src/main.js')],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        MNEMO_PORT: String(port),
        MNEMO_DATA_DIR: dataDir,
        MNEMO_ADMIN_KEY: BENCH_ADMIN_KEY,
        MNEMO_LOG_LEVEL: 'warn',
        MNEMO_RATE_LIMIT_RPM: '10000000',
        MNEMO_ENGRAM_RATE_LIMIT_RPM: '10000000',
        MNEMO_ENGRAM_WRITE_RATE_LIMIT_RPM: '10000000',
        MNEMO_EVENT_STREAM_MAXLEN: '1000000',
        MNEMO_WS_MAX_SOCKETS_PER_CREDENTIAL: '5000',
        // The webhook scenario's receiver listens on 127.0.0.1.
        MNEMO_ALLOW_PRIVATE_URLS: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mnemo exited during start:\n${output}`);
    if (Date.now() > deadline) throw new Error(`mnemo did not start:\n${output}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    pid: child.pid ?? -1,
    rssBytes: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a layer-API key with no practical rate limit. */
export async function layerKey(url: string, workspace: string): Promise<string> {
  const res = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ workspace_id: workspace, rate_limit_rpm: 1_000_000 }),
  });
  if (!res.ok) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}
