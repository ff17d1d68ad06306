import { createHash } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { readScripts } from '../../src/redis/scripts.js';
import { startServerWithHeldRoute } from '../helpers/held-route.js';
import { startTestRedis } from '../helpers/redis.js';
import { startServer } from '../helpers/server.js';

/** One keep-alive connection, for requests a draining server still answers on open connections. */
function keepAlive(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  let buffered = '';
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    await opened;
    buffered = '';
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${path}`)), 10_000);
      const onData = (chunk: Buffer): void => {
        buffered += chunk.toString('latin1');
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        clearTimeout(timer);
        socket.off('data', onData);
        const status = Number(buffered.slice(9, 12));
        resolve({ status, body: buffered.slice(end + 4, end + 4 + length) });
      };
      socket.on('data', onData);
    });
  };
  return { get, close: () => socket.destroy() };
}

describe('GET /livez and GET /readyz', () => {
  it('are 200 on a running instance; /readyz names each check', async () => {
    const server = await startServer();
    try {
      const live = await server.request('GET', '/livez');
      expect(live.status).toBe(200);
      expect(live.json).toEqual({ status: 'alive' });
      const ready = await server.request('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.json).toEqual({ status: 'ready', checks: { redis: 'ok', scripts: 'ok', shutdown: 'ok' } });
    } finally {
      await server.close();
    }
  });

  it('/readyz is 503 naming redis while Redis is down, /livez stays 200, and both recover', async () => {
    const redis = await startTestRedis();
    const server = await startServer({ redisUrl: redis.url });
    try {
      expect((await server.request('GET', '/readyz')).status).toBe(200);
      await redis.stop();
      await expect
        .poll(async () => (await server.request('GET', '/readyz')).status, { timeout: 15_000 })
        .toBe(503);
      const down = await server.request('GET', '/readyz');
      expect(down.json).toEqual({
        status: 'not ready',
        checks: { redis: 'unreachable', scripts: expect.stringMatching(/^not checked/), shutdown: 'ok' },
      });
      expect((await server.request('GET', '/livez')).status).toBe(200);
      await redis.restart();
      await expect
        .poll(async () => (await server.request('GET', '/readyz')).status, { timeout: 15_000 })
        .toBe(200);
    } finally {
      await server.close();
      await redis.destroy();
    }
  }, 60_000);

  it('loads the Lua scripts again when Redis lost them (SCRIPT FLUSH) before answering ready', async () => {
    const redis = await startTestRedis();
    const server = await startServer({ redisUrl: redis.url });
    const client = new Redis(redis.url);
    try {
      const shas = readScripts().map((source) => createHash('sha1').update(source.lua).digest('hex'));
      await client.script('FLUSH');
      expect(new Set((await client.script('EXISTS', ...shas)) as number[])).toEqual(new Set([0]));
      expect((await server.request('GET', '/readyz')).status).toBe(200);
      expect(new Set((await client.script('EXISTS', ...shas)) as number[])).toEqual(new Set([1]));
    } finally {
      client.disconnect();
      await server.close();
      await redis.destroy();
    }
  });

  it('during shutdown /readyz answers 503 "shutting down" while /livez still answers 200', async () => {
    const { server, path, entered, release } = await startServerWithHeldRoute();
    const probe = keepAlive(server.port);
    let closed: Promise<void> | undefined;
    try {
      expect((await probe.get('/readyz')).status).toBe(200);
      const held = fetch(`${server.url}${path}`);
      await entered;
      closed = server.close();
      const ready = await probe.get('/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({
        status: 'not ready',
        checks: { shutdown: 'shutting down' },
      });
      expect((await probe.get('/livez')).status).toBe(200);
      // Other routes answer 503 as before while draining.
      expect((await probe.get('/health')).status).toBe(503);
      release();
      expect((await held).status).toBe(200);
    } finally {
      release();
      probe.close();
      await (closed ?? server.close());
    }
  });
});
