import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive, spawnService } from '../helpers/process.js';
import { request } from '../helpers/server.js';

/** The service as users run it: the real entry point, embedded redis-server, signals. */
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-process-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

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

describe('embedded default', () => {
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

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/embedded redis-server stopped/);
    expect(isAlive(redisPid)).toBe(false);

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

  it('runs several server processes on one port with MNEMO_PROCESSES, and stops them all', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-processes-'));
    const port = await freePort();
    const proc = spawnService({ MNEMO_DATA_DIR: dir, MNEMO_PORT: String(port), MNEMO_PROCESSES: '2' });
    try {
      await proc.waitFor(/"processes":2,"msg":"mnemo is listening"/);
      const listening = [...proc.output().matchAll(/"pid":(\d+)[^\n]*"msg":"mnemo is listening"/g)].map(
        (m) => m[1],
      );
      expect(new Set(listening).size).toBe(3); // two servers and the supervisor
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
      const redisPid = Number(/"redisPid":(\d+)/.exec(proc.output())?.[1]);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(isAlive(redisPid)).toBe(false);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
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
