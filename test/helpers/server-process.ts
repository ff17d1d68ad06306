import { inject } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { freePort, spawnService, type ServiceProcess } from './process.js';

/** The real server process on the tests' Redis (a key prefix of its own) and a free port, listening. */
export interface ServerProcess {
  service: ServiceProcess;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
}

/** Starts src/main.ts with `env` added; a process that does not come up is stopped before this rejects. */
export async function spawnServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  const service = spawnService({
    REDIS_URL: inject('redisUrl'),
    MNEMO_KEY_PREFIX: `t${randomHex(4)}`,
    MNEMO_PORT: String(port),
    ...env,
  });
  try {
    await service.waitFor(/mnemo is listening/);
  } catch (err) {
    await stopService(service);
    throw err;
  }
  return { service, port, base: `http://127.0.0.1:${port}` };
}

/** Stops a service by its pid (SIGTERM) unless it already exited, and waits for the exit. */
export async function stopService(service: ServiceProcess | undefined): Promise<void> {
  if (!service || service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGTERM');
  await service.exited;
}
