import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { startMnemo, type Mnemo, type StartOptions } from '../../src/app.js';
import { loadConfig, type VARS } from '../../src/config.js';
import { randomHex } from '../../src/ids.js';
import { silentLogger } from '../../src/log.js';

type Overrides = Partial<{ [K in keyof typeof VARS]: (typeof VARS)[K]['fallback'] }>;

/** Each test file gets its own key prefix, so files never see each other's data on the shared Redis. */
export const FILE_PREFIX = `t${randomHex(4)}`;
export const ADMIN_KEY = `plm_admin_test_${randomHex(16)}`;

export interface TestServer extends Mnemo {
  dataDir: string;
  /** fetch against this server with JSON in and out. */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** A raw body sent as is (for invalid JSON and size tests). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** Starts a real mnemo on port 0 against the tests' redis-server. Close it in afterAll. */
export async function startServer(
  overrides: Overrides = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-test-data-'));
  const config = loadConfig(
    {},
    {
      host: '127.0.0.1',
      port: 0,
      redisUrl: inject('redisUrl'),
      dataDir,
      adminKey: ADMIN_KEY,
      logLevel: 'silent',
      keyPrefix: FILE_PREFIX,
      // Tests send many bad credentials from 127.0.0.1; the file that tests the limit turns it on.
      authFailureBurst: 0,
      ...overrides,
    },
  );
  const mnemo = await startMnemo(config, silentLogger, options);
  return {
    ...mnemo,
    port: mnemo.port,
    url: mnemo.url,
    dataDir,
    request: (method, p, o) => request(mnemo.url, method, p, o),
    close: async () => {
      await mnemo.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function request(
  base: string,
  method: string,
  p: string,
  options: RequestOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + p, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A route of the table, as tests that walk every route call it. */
export interface RouteProbe {
  method: string;
  path: string;
  schema: { body?: unknown };
}

/**
 * Calls `route` at `url` (its path with the parameters filled in) with these headers, sending `body` only
 * when the route takes one.
 */
export function callRoute(
  server: TestServer,
  route: RouteProbe,
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<TestResponse> {
  return server.request(route.method, url, { headers, ...(route.schema.body ? { body } : {}) });
}

/** Creates a layer-API key for `workspace` through the admin API and returns the key. */
export async function createLayerKey(
  server: TestServer,
  workspace: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await server.request('POST', '/admin/keys', {
    token: ADMIN_KEY,
    body: { workspace_id: workspace, ...extra },
  });
  if (res.status !== 200) throw new Error(`creating a key failed: ${res.status} ${res.text}`);
  return res.json.key as string;
}

/** A workspace id unique to this run. */
export const uniqueWorkspace = (name = 'ws'): string => `${name}-${randomHex(5)}`;
