import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  freePort,
  isAlive,
  killSpawned,
  spawnService,
  type LogLine,
  type ServiceProcess,
} from '../helpers/process.js';
import { request } from '../helpers/server.js';

/** The service as users run it: the real entry point, embedded redis-server, signals. */
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-process-'));
});
// Whatever a test started (servers, their server processes, redis-servers) ends with it, failed or not.
afterEach(killSpawned);
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** The first log line with this message (and these fields) that the process wrote. */
function logLine(proc: ServiceProcess, msg: string, fields: Record<string, unknown> = {}): LogLine {
  const line = proc
    .logLines()
    .find((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
  if (!line) throw new Error(`no "${msg}" line in:\n${proc.output()}`);
  return line;
}

/** Each JSON log line names its process once (pino's base pid; other pids get their own names). */
function expectOnePidPerLine(proc: ServiceProcess): void {
  const doubled = proc
    .output()
    .split('\n')
    .filter((line) => (line.match(/"pid":/g) ?? []).length > 1);
  expect(doubled).toEqual([]);
}

/** Bounded polling until none of the pids runs. */
async function expectAllGone(pids: number[]): Promise<void> {
  await expect.poll(() => pids.filter((pid) => isAlive(pid)), { timeout: 20_000, interval: 100 }).toEqual([]);
}

/** Sends raw RESP inline commands and resolves with whatever the server answered within 300 ms. */
function rawReply(port: number, commands: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(`${commands}\r\n`));
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.once('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(reply);
    }, 300);
  });
}

// Each test starts real processes (tsx, redis-server): on a loaded machine that takes a while.
describe('embedded default', { timeout: 180_000 }, () => {
  it('starts its own redis-server, keeps a generated admin key private, stops cleanly, and keeps data', async () => {
    const port = await freePort();
    const env = { MNEMO_DATA_DIR: dataDir, MNEMO_PORT: String(port) };
    const first = spawnService(env);
    await first.waitFor(/mnemo is listening/);
    const base = `http://127.0.0.1:${port}`;

    const health = await request(base, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.database).toBe('ok');

    const keyFile = path.join(dataDir, 'admin.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const adminKey = (await readFile(keyFile, 'utf8')).trim();
    expect(adminKey).toMatch(/^plm_admin_[0-9a-f]{48}$/);
    expect(first.output()).toContain(keyFile);
    expect(first.output()).not.toContain(adminKey);

    const created = await request(base, 'POST', '/admin/keys', {
      token: adminKey,
      body: { workspace_id: 'persisted' },
    });
    expect(created.status).toBe(200);
    const redisPid = Number(/"redisPid":(\d+)/.exec(first.output())?.[1]);
    expect(isAlive(redisPid)).toBe(true);
    expect((await stat(path.join(dataDir, 'redis', 'appendonlydir'))).isDirectory()).toBe(true);

    // Other local users reach 127.0.0.1 too: the embedded server wants a password nobody else can read.
    const passwordFile = path.join(dataDir, 'redis', 'password');
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    const password = (await readFile(passwordFile, 'utf8')).trim();
    expect(password).toMatch(/^[0-9a-f]{64}$/);
    expect(first.output()).not.toContain(password);
    expect(await readFile(`/proc/${redisPid}/cmdline`, 'utf8')).not.toContain(password);
    const redisPort = Number(/"port":(\d+),"dir"/.exec(first.output())?.[1]);
    expect(await rawReply(redisPort, 'PING')).toMatch(/^-NOAUTH/);
    expect(await rawReply(redisPort, `AUTH ${password}\r\nPING`)).toBe('+OK\r\n+PONG\r\n');

    // A second mnemo on the same data directory (another port) refuses to start and leaves the first alone.
    const intruder = spawnService({ MNEMO_DATA_DIR: dataDir, MNEMO_PORT: String(await freePort()) });
    expect(await intruder.exited).toBe(1);
    expect(intruder.output()).toContain(`is in use by another mnemo (pid ${first.child.pid})`);
    expect(isAlive(redisPid)).toBe(true);
    expect((await request(base, 'GET', '/health')).json.database).toBe('ok');
    expectOnePidPerLine(first);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/embedded redis-server stopped/);
    expect(isAlive(redisPid)).toBe(false);

    // A lock left by a mnemo that was killed (its pid no longer runs) is taken over.
    const gone = spawnService({}, 'test/helpers/noop.ts');
    await gone.exited;
    await writeFile(path.join(dataDir, 'mnemo.pid'), `${gone.child.pid}\n`);
    const second = spawnService(env);
    await second.waitFor(/mnemo is listening/);
    expect(second.output()).toMatch(/admin key read from file/);
    expect(second.output()).not.toContain(adminKey);
    const me = await request(base, 'GET', '/v1/me', { token: created.json.key });
    expect(me.status).toBe(200);
    expect(me.json.workspace_id).toBe('persisted');
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('runs several server processes on one port with MNEMO_PROCESSES, keeps other mnemos off it, restarts a dead one, and stops them all', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-processes-'));
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-processes-other-'));
    try {
      const port = await freePort();
      const proc = spawnService({ MNEMO_DATA_DIR: dir, MNEMO_PORT: String(port), MNEMO_PROCESSES: '2' });
      await proc.waitFor(/"processes":2[^\n]*"msg":"mnemo is listening"/, 60_000);
      // The supervisor names its server processes once they all are ready: no counting of log lines.
      const workerPids = logLine(proc, 'mnemo is listening', { processes: 2 }).workerPids as number[];
      expect(workerPids).toHaveLength(2);
      expect(workerPids.every((pid) => isAlive(pid))).toBe(true);
      const redisPid = logLine(proc, 'embedded redis-server started').redisPid as number;

      // Another mnemo on the port, alone or as a group of its own, is refused instead of sharing it.
      const single = spawnService({ MNEMO_DATA_DIR: otherDir, MNEMO_PORT: String(port) });
      const group = spawnService({
        MNEMO_DATA_DIR: otherDir,
        MNEMO_PORT: String(port),
        MNEMO_PROCESSES: '2',
      });
      expect(await single.exited).toBe(1);
      expect(await group.exited).toBe(1);
      for (const refused of [single, group]) expect(refused.output()).toContain(`port ${port} is in use`);

      const base = `http://127.0.0.1:${port}`;
      const adminKey = (await readFile(path.join(dir, 'admin.key'), 'utf8')).trim();
      const created = await request(base, 'POST', '/admin/keys', {
        token: adminKey,
        body: { workspace_id: 'multi' },
      });
      const key = created.json.key as string;
      // Fresh connections land on either process; every one sees the same data.
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${base}/v1/remember`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            connection: 'close',
          },
          body: JSON.stringify({ content: `note ${i} about kiwis` }),
        });
        expect(res.status).toBe(200);
      }
      const stats = await request(base, 'GET', '/v1/stats', { token: key, headers: { connection: 'close' } });
      expect(stats.json.episodic_records).toBe(6);

      // A server process that dies is replaced.
      const [victim, survivor] = workerPids as [number, number];
      process.kill(victim, 'SIGKILL');
      await proc.waitFor(/"msg":"a server process died/);
      expect(logLine(proc, 'a server process died: starting another').workerPid).toBe(victim);
      await expect
        .poll(
          () =>
            proc
              .logLines()
              .filter((l) => l.msg === 'mnemo is listening' && l.processes === undefined)
              .map((l) => l.pid)
              .filter((pid) => !workerPids.includes(pid as number)),
          { timeout: 30_000, interval: 100 },
        )
        .toHaveLength(1);
      const replacement = proc
        .logLines()
        .find(
          (l) =>
            l.msg === 'mnemo is listening' &&
            l.pid !== proc.child.pid &&
            !workerPids.includes(l.pid as number),
        )?.pid as number;
      expectOnePidPerLine(proc);

      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      await expectAllGone([survivor, replacement, redisPid]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('takes its server processes and embedded redis-servers with it when killed with -9', async () => {
    const groupDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-kill-group-'));
    const singleDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-kill-single-'));
    try {
      const group = spawnService({
        MNEMO_DATA_DIR: groupDir,
        MNEMO_PORT: String(await freePort()),
        MNEMO_PROCESSES: '2',
      });
      const single = spawnService({ MNEMO_DATA_DIR: singleDir, MNEMO_PORT: String(await freePort()) });
      await group.waitFor(/"processes":2[^\n]*"msg":"mnemo is listening"/, 60_000);
      await single.waitFor(/"msg":"mnemo is listening"/, 60_000);
      const pids = [
        ...(logLine(group, 'mnemo is listening', { processes: 2 }).workerPids as number[]),
        logLine(group, 'embedded redis-server started').redisPid as number,
        logLine(single, 'embedded redis-server started').redisPid as number,
      ];
      expect(pids.every((pid) => isAlive(pid))).toBe(true);

      // Only the leaders are killed (not their process groups): what they started must follow by itself.
      group.child.kill('SIGKILL');
      single.child.kill('SIGKILL');
      await Promise.all([group.exited, single.exited]);
      await expectAllGone(pids);
    } finally {
      await rm(groupDir, { recursive: true, force: true });
      await rm(singleDir, { recursive: true, force: true });
    }
  });

  it('says at once that Redis refused the password, and exits non-zero', async () => {
    const url = new URL(inject('redisUrl'));
    url.password = 'not-the-password';
    const proc = spawnService({ REDIS_URL: url.toString(), MNEMO_PORT: String(await freePort()) });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/mnemo cannot start: Cannot reach Redis at [^\n]*(WRONGPASS|invalid)/);
    expect(proc.output()).not.toContain('not-the-password');
  });

  it('says which port is taken (EADDRINUSE) when another program listens on it, and exits non-zero', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)),
    );
    try {
      const proc = spawnService({ MNEMO_DATA_DIR: dataDir, MNEMO_PORT: String(port) });
      expect(await proc.exited).toBe(1);
      expect(proc.output()).toContain(`port ${port} is in use (EADDRINUSE, 127.0.0.1:${port})`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('exits with install instructions when redis-server is missing', async () => {
    const proc = spawnService({
      MNEMO_DATA_DIR: dataDir,
      MNEMO_PORT: String(await freePort()),
      MNEMO_REDIS_SERVER: '/nonexistent/redis-server',
    });
    expect(await proc.exited).toBe(3);
    expect(proc.output()).toMatch(/not found on PATH/);
    expect(proc.output()).toMatch(/apt-get install -y redis-server/);
    expect(proc.output()).toMatch(/REDIS_URL/);
  });

  it('exits with a clear message when redis-server is older than 7.0', async () => {
    const fake = path.join(dataDir, 'old-redis-server');
    await writeFile(
      fake,
      '#!/bin/sh\necho "Redis server v=6.2.14 sha=00000000:0 malloc=jemalloc-5.1.0 bits=64"\n',
    );
    await chmod(fake, 0o755);
    const proc = spawnService({
      MNEMO_DATA_DIR: dataDir,
      MNEMO_PORT: String(await freePort()),
      MNEMO_REDIS_SERVER: fake,
    });
    expect(await proc.exited).toBe(3);
    expect(proc.output()).toMatch(/6\.2\.14 is too old: mnemo needs 7\.0 or newer/);
  });

  it('exits with every configuration problem listed', async () => {
    const proc = spawnService({ MNEMO_PORT: 'x', MNEMO_CORS_ORIGINS: '*', MNEMO_WORKING_CAPACITY: '-1' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/Invalid configuration/);
    expect(proc.output()).toMatch(/MNEMO_PORT/);
    expect(proc.output()).toMatch(/MNEMO_WORKING_CAPACITY/);
  });
});
