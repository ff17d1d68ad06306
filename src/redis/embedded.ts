import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomHex } from '../ids.js';
import type { Logger } from '../log.js';
import { freePort } from '../net.js';
import { readOrCreateSecret } from '../secret-file.js';
import { isProcessRunning, lockDataDir, type DataDirLock } from './data-dir-lock.js';

/**
 * The embedded default: with no REDIS_URL, mnemo runs its own redis-server as a child process on 127.0.0.1,
 * with its files in <data dir>/redis and the append-only file on (fsync every second), so data survives a
 * restart. The child is stopped after the service has drained, and dies with its parent even when that
 * is killed (-9): see `launchCommand`. The data directory is locked (data-dir-lock.ts) so a second mnemo
 * cannot take it over; a child left behind anyway is found by its pid file and shut down cleanly before a
 * new one starts on the same files.
 */
export const MIN_REDIS_MAJOR = 7;
/** The embedded server's password, in its directory (mode 0600). */
export const PASSWORD_FILE = 'password';

export class RedisServerUnavailable extends Error {
  override name = 'RedisServerUnavailable';
}

const INSTALL_HINT =
  'Install Redis 7 or newer (Debian/Ubuntu: `sudo apt-get install -y redis-server`; macOS: `brew install redis`), ' +
  'point MNEMO_REDIS_SERVER at a redis-server binary, or set REDIS_URL to use an existing Redis.';

/** Returns the version of `bin` ("7.0.15"), or throws RedisServerUnavailable with an install hint. */
export async function redisServerVersion(bin: string): Promise<string> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(bin, ['--version'], { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => {
      if (err) reject(Object.assign(new Error(err.message), { code: err.code }));
      else resolve(stdout);
    });
  }).catch((err: Error & { code?: unknown }) => {
    const why =
      err.code === 'ENOENT' ? `"${bin}" was not found on PATH` : `"${bin} --version" failed (${err.message})`;
    throw new RedisServerUnavailable(`No usable redis-server: ${why}. ${INSTALL_HINT}`);
  });
  const match = /v=(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!match)
    throw new RedisServerUnavailable(
      `Cannot read the version of "${bin}" from "${output.trim()}". ${INSTALL_HINT}`,
    );
  if (Number(match[1]) < MIN_REDIS_MAJOR) {
    throw new RedisServerUnavailable(
      `redis-server ${match[1]}.${match[2]}.${match[3]} is too old: mnemo needs ${MIN_REDIS_MAJOR}.0 or newer. ${INSTALL_HINT}`,
    );
  }
  return `${match[1]}.${match[2]}.${match[3]}`;
}

export interface EmbeddedRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
}

export interface EmbeddedRedisOptions {
  bin: string;
  dataDir: string;
  log: Logger;
  /** How long to wait for the server to load its data and answer PING. */
  readyTimeoutMs?: number;
  /** A fixed port instead of a free one (tests restart a server on the same port). */
  port?: number;
  /** A given password instead of the one generated beside the data (the nodes of a test cluster share one). */
  password?: string;
  /** More configuration lines, sent on stdin with the password (e.g. `cluster-enabled yes`). */
  extraConfig?: readonly string[];
}

export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const version = await redisServerVersion(options.bin);
  const dir = path.join(options.dataDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = await lockDataDir(options.dataDir);
  try {
    const pidFile = path.join(dir, 'redis.pid');
    await stopLeftover(pidFile, options.log);
    // Other local users can reach 127.0.0.1 too: the server asks for a password, kept beside its data.
    const password =
      options.password ??
      (await readOrCreateSecret(path.join(dir, PASSWORD_FILE), () => randomHex(32))).value;

    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = options.port ?? (await freePort());
      try {
        return await launch(options, version, dir, pidFile, port, password, lock);
      } catch (err) {
        lastError = err as Error;
        // A port race (someone took the port between probe and bind) is the one failure worth retrying.
        if (!/Address already in use/i.test(lastError.message)) break;
      }
    }
    throw lastError ?? new Error('embedded redis-server did not start');
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** setpriv (util-linux) on PATH, if there is one. */
function findSetpriv(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'setpriv');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * redis-server has no "exit with your parent" option, and a mnemo killed with -9 must not leave it
 * serving. On Linux it is started through `setpriv --pdeathsig SIGTERM`, which sets PR_SET_PDEATHSIG and
 * execs redis-server (same pid): the kernel sends SIGTERM (a clean AOF fsync and exit) when this process
 * dies, however it dies. Elsewhere a small shell watchdog polls this process and does the same.
 */
function launchCommand(bin: string, args: string[]): { command: string; args: string[]; watchdog: boolean } {
  const setpriv = findSetpriv();
  if (setpriv)
    return { command: setpriv, args: ['--pdeathsig', 'SIGTERM', '--', bin, ...args], watchdog: false };
  return { command: bin, args, watchdog: true };
}

function startWatchdog(redisPid: number): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -TERM "$2" 2>/dev/null';
  const watchdog = spawn(
    'sh',
    ['-c', script, 'mnemo-redis-watchdog', String(process.pid), String(redisPid)],
    {
      stdio: 'ignore',
    },
  );
  watchdog.unref();
  return watchdog;
}

async function launch(
  options: EmbeddedRedisOptions,
  version: string,
  dir: string,
  pidFile: string,
  port: number,
  password: string,
  lock: DataDirLock,
): Promise<EmbeddedRedis> {
  const logFile = path.join(dir, 'redis.log');
  // '-' first: the rest of the configuration comes on stdin, so the password never shows in `ps`.
  const args = [
    '-',
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--protected-mode', 'yes',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--daemonize', 'no',
    '--pidfile', pidFile,
    '--logfile', logFile,
  ]; // prettier-ignore
  const launched = launchCommand(options.bin, args);
  const child = spawn(launched.command, launched.args, { stdio: ['pipe', 'ignore', 'ignore'] });
  const watchdog = launched.watchdog && child.pid !== undefined ? startWatchdog(child.pid) : undefined;
  child.stdin?.on('error', () => undefined); // an early exit is reported below, with the log's last lines
  child.stdin?.end([`requirepass ${password}`, ...(options.extraConfig ?? [])].join('\n') + '\n');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);

  let childExited = false;
  const ready = await Promise.race([
    waitForPong(port, password, options.readyTimeoutMs ?? 120_000, () => childExited).then(() => true),
    exited.then(() => {
      childExited = true;
      return false;
    }),
  ]);
  if (!ready) {
    process.off('exit', killOnExit);
    watchdog?.kill();
    const tail = await readFile(logFile, 'utf8').then(
      (text) => text.trim().split('\n').slice(-5).join('\n'),
      () => '',
    );
    throw new Error(`embedded redis-server exited during start-up. Last log lines (${logFile}):\n${tail}`);
  }
  options.log.info({ port, dir, version, redisPid: child.pid }, 'embedded redis-server started');
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    version,
    stop: async () => {
      process.off('exit', killOnExit);
      watchdog?.kill();
      await stopChild(child, exited);
      await lock.release();
      options.log.info({ port }, 'embedded redis-server stopped');
    },
  };
}

/** SIGTERM makes redis-server fsync its AOF and exit; SIGKILL only if it does not within 15 s. */
async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 15_000);
  });
  const done = await Promise.race([exited.then(() => true), timeout]);
  clearTimeout(timer);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

async function stopLeftover(pidFile: string, log: Logger): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('redis-server')) {
    await rm(pidFile, { force: true });
    return;
  }
  log.warn(
    { redisPid: pid },
    'a redis-server from an earlier run still owns the data directory; stopping it first',
  );
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 300 && isProcessRunning(pid); i++) await sleep(50);
  if (isProcessRunning(pid)) process.kill(pid, 'SIGKILL');
}

/** Polls with a raw PING until the server answers +PONG (it answers -LOADING while reading its AOF). */
async function waitForPong(
  port: number,
  password: string,
  timeoutMs: number,
  gaveUp: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gaveUp()) {
    if (await pingOnce(port, password)) return;
    await sleep(25);
  }
  throw new Error(`embedded redis-server did not answer PING within ${timeoutMs} ms`);
}

/** AUTH then PING in one write; ready when the second reply line is +PONG. */
function pingOnce(port: number, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write(`AUTH ${password}\r\nPING\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      const lines = reply.split('\r\n');
      if (lines.length >= 3) finish(lines[0] === '+OK' && lines[1] === '+PONG');
    });
  });
}
