import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startMnemo } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { randomHex } from '../../src/ids.js';
import { killSpawned, type LogLine } from '../helpers/process.js';
import { spawnServer, stopService, type ServerProcess } from '../helpers/server-process.js';
import { request } from '../helpers/server.js';

const ADMIN = `plm_admin_log_${randomHex(16)}`;
const requestLines = (lines: LogLine[]) => lines.filter((line) => line.msg?.startsWith('request'));

afterEach(async () => {
  await killSpawned();
});

describe('request log (MNEMO_LOG_REQUESTS=all, the real service process)', () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await stopService(server?.service);
  });

  it('writes one JSON line per request with its fields, and never a key or memory content', async () => {
    server = await spawnServer({ MNEMO_ADMIN_KEY: ADMIN, MNEMO_LOG_REQUESTS: 'all' });
    const workspace = `log-${randomHex(4)}`;
    const created = await request(server.base, 'POST', '/admin/keys', {
      token: ADMIN,
      body: { workspace_id: workspace },
    });
    expect(created.status).toBe(200);
    const key = created.json.key as string;
    const content = `The vault combination is ${randomHex(8)}`;
    const remembered = await request(server.base, 'POST', '/v1/remember', {
      token: key,
      body: { content, user_id: 'u1' },
      headers: { 'x-request-id': 'req-log-remember' },
    });
    expect(remembered.status).toBe(200);
    const memoryId = `mem_${randomHex(6)}`;
    expect((await request(server.base, 'GET', `/v1/memory/${memoryId}`, { token: key })).status).toBe(404);
    const badKey = `plm_live_${randomHex(16)}`;
    expect((await request(server.base, 'GET', '/v1/me', { token: badKey })).status).toBe(401);
    expect(
      (await request(server.base, 'POST', '/v1/recall', { token: key, body: { query: content } })).status,
    ).toBe(200);

    await expect
      .poll(() => requestLines(server!.service.logLines()).length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(5);
    const lines = requestLines(server.service.logLines());
    const remember = lines.find((line) => line.request_id === 'req-log-remember');
    expect(remember).toMatchObject({
      msg: 'request',
      route: '/v1/remember',
      method: 'POST',
      status: 200,
      principal_kind: 'layer-key',
      principal_id: expect.any(String),
      workspace,
      bytes_in: Buffer.byteLength(JSON.stringify({ content, user_id: 'u1' })),
      bytes_out: Buffer.byteLength(remembered.text),
    });
    expect(remember?.latency_ms).toEqual(expect.any(Number));
    const admin = lines.find((line) => line.route === '/admin/keys');
    expect(admin).toMatchObject({ principal_kind: 'admin', principal_id: null, status: 200 });
    // The route template, not the raw path with its id.
    const missing = lines.find((line) => line.status === 404);
    expect(missing).toMatchObject({ route: '/v1/memory/:id', principal_kind: 'layer-key' });
    const refused = lines.find((line) => line.status === 401);
    expect(refused).toMatchObject({ route: '/v1/me', principal_kind: 'anonymous', principal_id: null });
    for (const line of lines) {
      for (const field of ['request_id', 'route', 'method', 'status', 'latency_ms', 'bytes_in', 'bytes_out'])
        expect(line, field).toHaveProperty(field);
    }
    // Nothing secret anywhere in the process's output: not the keys, not what was remembered.
    const output = server.service.output();
    expect(output).not.toContain(ADMIN);
    expect(output).not.toContain(key);
    expect(output).not.toContain(badKey);
    expect(output).not.toContain(content);
    expect(output).not.toContain(memoryId);
  }, 90_000);
});

/** An in-process instance whose log lines are collected, for the modes other than `all`. */
async function startLogged(mode: 'errors' | 'off', slowRequestMs = 1000) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-log-'));
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const config = loadConfig(
    {},
    {
      host: '127.0.0.1',
      port: 0,
      redisUrl: inject('redisUrl'),
      adminKey: ADMIN,
      keyPrefix: `t${randomHex(4)}`,
      dataDir,
      authFailureBurst: 0,
      logRequests: mode,
      slowRequestMs,
    },
  );
  const started = await startMnemo(config, pino({ level: 'info' }, sink));
  const mnemo = {
    url: started.url,
    close: async () => {
      await started.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return { mnemo, lines: () => lines.filter((line) => String(line.msg).startsWith('request')) };
}

describe('request log modes', () => {
  it('errors (the default) logs 4xx and 5xx answers only', async () => {
    expect(loadConfig({}).logRequests).toBe('errors');
    const { mnemo, lines } = await startLogged('errors');
    try {
      expect((await request(mnemo.url, 'GET', '/health')).status).toBe(200);
      expect((await request(mnemo.url, 'GET', '/v1/me')).status).toBe(401);
      await expect.poll(() => lines().length).toBe(1);
      expect(lines()[0]).toMatchObject({ route: '/v1/me', status: 401 });
    } finally {
      await mnemo.close();
    }
  });

  it('errors also logs a request slower than MNEMO_SLOW_REQUEST_MS, at warn level', async () => {
    const { mnemo, lines } = await startLogged('errors', 1);
    try {
      // Building the OpenAPI document usually takes over 1 ms; poll until a request was that slow, never time one.
      await expect
        .poll(
          async () => {
            await request(mnemo.url, 'GET', '/openapi.json');
            return lines().length;
          },
          { timeout: 15_000 },
        )
        .toBeGreaterThan(0);
      expect(lines()[0]).toMatchObject({ msg: 'request (slow)', level: 40, status: 200 });
    } finally {
      await mnemo.close();
    }
  });

  it('off logs nothing, not even errors', async () => {
    const { mnemo, lines } = await startLogged('off');
    try {
      expect((await request(mnemo.url, 'GET', '/v1/me')).status).toBe(401);
      expect((await request(mnemo.url, 'GET', '/no-such-route')).status).toBe(404);
      expect(lines()).toEqual([]);
    } finally {
      await mnemo.close();
    }
  });

  it('refuses an unknown mode at start', () => {
    expect(() => loadConfig({ MNEMO_LOG_REQUESTS: 'some' })).toThrow(/MNEMO_LOG_REQUESTS/);
    expect(() => loadConfig({ MNEMO_SLOW_REQUEST_MS: '0' })).toThrow(/MNEMO_SLOW_REQUEST_MS/);
  });
});
