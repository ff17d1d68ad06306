import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

export { freePort } from '../../src/net.js';

/** The real entry point (src/main.ts through tsx) as a child process, with its output collected. */
export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  /** The JSON log lines written so far, parsed (other output is skipped). */
  logLines: () => LogLine[];
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export type LogLine = Record<string, unknown> & { msg?: string; pid?: number };

/** Every service started by spawnService that may still run; `killSpawned` ends them (afterEach). */
const running = new Set<ServiceProcess>();

/**
 * The server entry (src/main.ts) or another one (src/worker.ts) as a child process. It leads a process
 * group of its own, so `killSpawned` also reaches what it started (server processes, redis-server) even
 * when a test fails before stopping it.
 */
export function spawnService(env: Record<string, string | undefined>, entry = 'src/main.ts'): ServiceProcess {
  const cleanEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('MNEMO_') && !k.startsWith('PLYRA_') && k !== 'REDIS_URL')
      cleanEnv[k] = v;
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) cleanEnv[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, entry)], {
    cwd: PROJECT_ROOT,
    env: cleanEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const service: ServiceProcess = {
    child,
    output: () => output,
    logLines: () => parseLogLines(output),
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const check = (): void => {
          const match = pattern.exec(output);
          if (match) return resolve(match[0]);
          if (child.exitCode !== null)
            return reject(new Error(`process exited (${child.exitCode}):\n${output}`));
          if (Date.now() - started > timeoutMs)
            return reject(new Error(`timed out waiting for ${pattern}:\n${output}`));
          setTimeout(check, 50);
        };
        check();
      }),
  };
  running.add(service);
  void exited.then(() => running.delete(service));
  return service;
}

/** SIGKILLs the process group of every spawned service still running, and waits for each leader to exit. */
export async function killSpawned(): Promise<void> {
  await Promise.all(
    [...running].map(async (service) => {
      const pid = service.child.pid;
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await service.exited;
    }),
  );
}

function parseLogLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut off by a kill
    }
  }
  return lines;
}

/** True while `pid` runs; a zombie (exited, not yet reaped by whoever adopted it) counts as gone. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self/stat'); // no /proc: signal 0 is all there is
  }
};
