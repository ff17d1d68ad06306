import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { randomHex } from '../../src/ids.js';
import type { ServiceProcess } from '../helpers/process.js';
import { spawnServer, stopService } from '../helpers/server-process.js';
import { request } from '../helpers/server.js';

/**
 * The real server process with event sockets opened on both faces: sockets stay open, and its output stays
 * JSON lines. uWS writes a native warning line to stderr for an upgrade answered after a Redis lookup (a
 * credential this instance has not cached yet), because that upgrade is not corked; corking it closes about
 * half of such sockets at once in this uWS build (uNetworking/uWebSockets#1929, see src/ws/handshake.ts).
 * The supervisor process keeps that line out of the output (src/native-stderr.ts).
 */

let service: ServiceProcess;
let base: string;
let dataDir: string;
const adminKey = `plm_admin_test_${randomHex(16)}`;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-ws-log-'));
  ({ service, base } = await spawnServer({
    MNEMO_DATA_DIR: dataDir,
    MNEMO_ADMIN_KEY: adminKey,
    MNEMO_LOG_LEVEL: 'info',
  }));
});
afterAll(async () => {
  await stopService(service);
  await rm(dataDir, { recursive: true, force: true });
});

/** Opens an event socket, subscribes and pings; resolves once both answers came and the socket is still open. */
function openSocket(pathname: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${pathname}`, { headers });
    const seen = new Set<string>();
    ws.once('open', () => {
      ws.send(JSON.stringify({ op: 'subscribe' }));
      ws.send(JSON.stringify({ op: 'ping' }));
    });
    ws.on('message', (data) => {
      seen.add((JSON.parse((data as Buffer).toString('utf8')) as { op?: string }).op ?? 'event');
      if (seen.has('subscribed') && seen.has('pong') && ws.readyState === WebSocket.OPEN) resolve(ws);
    });
    ws.once('close', (code) => reject(new Error(`closed with ${code} before answering`)));
    ws.once('error', reject);
  });
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.close(1000);
        }),
    ),
  );
}

const nonJsonLines = (output: string): string[] =>
  output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });

describe('event socket upgrades and the log', () => {
  it('keeps the output JSON lines only for sockets of credentials the instance knows, on both faces', async () => {
    const layer = await request(base, 'POST', '/admin/keys', {
      token: adminKey,
      body: { workspace_id: 'logs' },
    });
    const layerKey = layer.json.key as string;
    const org = { 'x-mnemo-org': `org-${randomHex(4)}` };
    const admin = (method: string, p: string, body: unknown) =>
      request(base, method, p, { token: adminKey, headers: org, body });
    const user = await admin('POST', '/api/v1/admin/users', { username: 'ana', role: 'editor' });
    const userKey = (await admin('POST', '/api/v1/admin/api-keys', { user_id: user.json.id })).json
      .key as string;
    // Each credential is used over HTTP first, as clients do (and as any earlier socket would).
    expect((await request(base, 'GET', '/v1/me', { token: layerKey })).status).toBe(200);
    expect((await request(base, 'GET', '/api/v1/me', { token: userKey })).status).toBe(200);
    expect((await request(base, 'GET', '/api/v1/me', { token: adminKey, headers: org })).status).toBe(200);
    const before = service.output().length;

    const sockets: WebSocket[] = [];
    for (let i = 0; i < 3; i++) {
      sockets.push(await openSocket('/v1/events', { authorization: `Bearer ${layerKey}` }));
      sockets.push(await openSocket('/api/v1/events', { authorization: `Bearer ${userKey}` }));
      sockets.push(await openSocket('/api/v1/events', { authorization: `Bearer ${adminKey}`, ...org }));
    }
    await closeAll(sockets);
    // A request after the sockets: whatever the upgrades printed is in the output before its log line.
    expect((await request(base, 'GET', '/health')).status).toBe(200);
    expect(nonJsonLines(service.output().slice(before))).toEqual([]);
  });

  it('keeps sockets open whose credential had to be looked up, and their native uWS notice out of the output', async () => {
    // If this upgrade were corked, about half of these sockets would be closed right after opening.
    const keys: string[] = [];
    for (let i = 0; i < 8; i++) {
      const created = await request(base, 'POST', '/admin/keys', {
        token: adminKey,
        body: { workspace_id: `fresh-${i}` },
      });
      keys.push(created.json.key as string);
    }
    const before = service.output().length;
    const sockets = await Promise.all(
      keys.map((key) => openSocket('/v1/events', { authorization: `Bearer ${key}` })),
    );
    await closeAll(sockets);
    expect((await request(base, 'GET', '/health')).status).toBe(200);
    expect(nonJsonLines(service.output().slice(before))).toEqual([]);
  });
});
