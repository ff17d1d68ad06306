import { fork, type ChildProcess } from 'node:child_process';
import { resolveAdminKey } from './auth/admin-key.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { forwardServerStderr } from './native-stderr.js';
import { MetricsGatherer } from './metrics/process-group.js';
import { freePort } from './net.js';
import { VERSION } from './version.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded.js';

/**
 * The entry process supervises MNEMO_PROCESSES server processes (one by default) sharing one port (the
 * kernel spreads connections over them with SO_REUSEPORT). Even one is supervised: the supervisor passes
 * their stderr on without uWS's native cork notice (src/native-stderr.ts), and restarts a process that dies. main.ts checks first that no one else holds the port,
 * and only the group's own processes listen with SO_REUSEPORT, so no other mnemo can join it. Instances
 * share nothing but Redis, so this is the same as running several instances behind a load balancer, on
 * one machine. The supervisor owns what must exist once: the embedded redis-server, the generated admin
 * key, the port. It restarts a process that dies, and on SIGINT/SIGTERM lets every process drain before
 * stopping Redis. When the supervisor itself dies, however it dies, its server processes exit (their IPC
 * channel closes) and so does the embedded Redis (see embedded.ts).
 */
/** Set in a server process's environment to the size of its group. */
export const CHILD_ENV = 'MNEMO_CHILD_PROCESS';

export interface Supervisor {
  close(): Promise<void>;
}

const RESTART_DELAY_MS = 1000;

/** A server process ended before it was ready; it has said why on its own output. */
export class ServerProcessExited extends Error {
  constructor(readonly exitCode: number) {
    super(`a server process exited during start-up (code ${exitCode})`);
  }
}

export async function superviseProcesses(
  config: Readonly<Config>,
  log: Logger,
  script: string,
): Promise<Supervisor> {
  let embedded: EmbeddedRedis | undefined;
  if (config.redis.kind === 'embedded') {
    embedded = await startEmbeddedRedis({ bin: config.redisServerBin, dataDir: config.dataDir, log });
  }
  // Created once here; the processes read it from the file.
  await resolveAdminKey(config.adminKey, config.dataDir, log);
  const port = config.port === 0 ? await freePort() : config.port;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [CHILD_ENV]: String(config.processes),
    MNEMO_PORT: String(port),
    MNEMO_PROCESSES: '1',
    ...(embedded ? { REDIS_URL: embedded.url } : {}),
  };

  const children = new Set<ChildProcess>();
  // GET /metrics in any process answers for the whole group (src/metrics/process-group.ts).
  const metrics = new MetricsGatherer(() => children);
  let stopping = false;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = fork(script, [], { env, stdio: ['inherit', 'inherit', 'pipe', 'ipc'] });
      children.add(child);
      if (child.stderr) forwardServerStderr(child.stderr, log);
      metrics.attach(child);
      let ready = false;
      child.on('message', (message: { type?: string }) => {
        if (message.type !== 'ready') return;
        ready = true;
        resolve();
      });
      child.once('exit', (code, signal) => {
        children.delete(child);
        if (!ready) reject(new ServerProcessExited(code ?? 1));
        else if (!stopping) {
          log.error({ workerPid: child.pid, code, signal }, 'a server process died: starting another');
          setTimeout(
            () => void start().catch((err: unknown) => log.error({ err }, 'restart failed')),
            RESTART_DELAY_MS,
          );
        }
      });
    });

  try {
    await Promise.all(Array.from({ length: config.processes }, start));
  } catch (err) {
    stopping = true;
    await stopAll(children);
    await embedded?.stop();
    throw err;
  }
  log.info(
    {
      url: `http://${config.host}:${port}`,
      version: VERSION,
      env: config.env,
      redis: embedded ? 'embedded' : 'external',
      processes: config.processes,
      workerPids: [...children].map((child) => child.pid),
    },
    'mnemo is listening',
  );
  return {
    close: async () => {
      stopping = true;
      await stopAll(children);
      await embedded?.stop();
    },
  };
}

async function stopAll(children: Set<ChildProcess>): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}
