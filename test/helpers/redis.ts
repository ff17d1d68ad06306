import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/log.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/redis/embedded.js';

/**
 * A real redis-server of the tests' own: a free port (or a given one), its own temp directory, AOF on.
 * Never the machine's shared Redis, never FLUSHALL on someone else's data.
 */
export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  server: EmbeddedRedis;
  /** Stops the server, keeping its files (restart with `restart`). */
  stop(): Promise<void>;
  /** Starts it again on the same port and files. */
  restart(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-test-redis-'));
  const bin = process.env.MNEMO_REDIS_SERVER ?? 'redis-server';
  let server = await startEmbeddedRedis({ bin, dataDir: dir, log: silentLogger });
  const port = server.port;
  const handle: TestRedis = {
    url: server.url,
    port,
    dir,
    server,
    stop: () => server.stop(),
    restart: async () => {
      server = await startEmbeddedRedis({ bin, dataDir: dir, log: silentLogger, port });
      handle.server = server;
    },
    destroy: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
