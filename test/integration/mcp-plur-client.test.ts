import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/**
 * The PLUR client path: the real `@plur-ai/mcp` 0.20 server (a dev dependency), spawned over stdio and
 * driven by the official MCP SDK client, with mnemo as its remote store (a `stores:` entry with `url` and
 * `token` in its config.yaml). PLUR's own remote-store code then talks to mnemo's /api/v1 over real HTTP
 * with a user key: what it writes, reads, rates and retires is checked over REST. The child's fetch is
 * limited to loopback (test/helpers/loopback-only-fetch.ts): PLUR checks the npm registry at start.
 */
const PLUR_DIR = path.join(PROJECT_ROOT, 'node_modules', '@plur-ai', 'mcp');
const PLUR_PACKAGE = JSON.parse(readFileSync(path.join(PLUR_DIR, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
const PLUR_MCP = path.join(PLUR_DIR, PLUR_PACKAGE.bin['plur-mcp'] ?? 'dist/index.js');
/** tsx by path: the child runs in a scratch directory, where a bare `tsx` would not resolve. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const GUARD = fileURLToPath(new URL('../helpers/loopback-only-fetch.ts', import.meta.url));

let server: TestServer;
let org: Org;
let editor: TestUser;
/** The key PLUR holds (the editor's own, minted for it), revoked by the last test. */
let plurKey: { key: string; id: string };
let hiddenScope: string;
let hiddenId: string;
let home: string;
let client: Client;
let transport: StdioClientTransport;
let pid: number | null = null;
let stderr = '';

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server, 'plurclient');
  editor = await org.user('editor', 'editor');
  plurKey = (await org.as(editor, 'POST', '/api/v1/me/api-keys', { label: 'plur-mcp' })).json;
  // A group the editor is not in, holding an engram the editor must never see.
  const hidden = await org.group('hidden');
  hiddenScope = hidden.scope;
  hiddenId = (await org.engram(null, { statement: 'Kiwi rotation secret schedule', scope: hiddenScope }))
    .id as string;

  home = mkdtempSync(path.join(tmpdir(), 'mnemo-plur-'));
  const plurPath = path.join(home, '.plur');
  mkdirSync(plurPath);
  writeFileSync(
    path.join(plurPath, 'config.yaml'),
    [
      'stores:',
      `  - url: ${server.url}`,
      `    token: ${plurKey.key}`,
      `    scope: org:${org.id}`,
      '    shared: true',
      `  - url: ${server.url}`,
      `    token: ${plurKey.key}`,
      `    scope: ${hiddenScope}`,
      '    shared: true',
      '',
    ].join('\n'),
  );
  transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', TSX, '--import', GUARD, PLUR_MCP],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      PLUR_PATH: plurPath,
      PLUR_TELEMETRY: 'off',
      PLUR_DISABLE_EMBEDDINGS: '1',
      PLUR_TOOL_PROFILE: 'full',
    },
    cwd: home,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  client = new Client({ name: 'mnemo-test', version: '1.0.0' });
  try {
    await client.connect(transport);
  } finally {
    pid = transport.pid; // kept even when initialize fails, so afterAll still stops the child
  }
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  if (pid !== null) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already exited with the client's close
    }
  }
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

const call = async (name: string, args: Record<string, unknown> = {}) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

/** Waits until PLUR's stderr (its warnings) matches; fails the test when it never does. */
async function stderrMatching(pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(stderr) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(stderr).toMatch(pattern);
}

/** PLUR answers JSON as its text content. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (result: CallToolResult): any => JSON.parse((result.content[0] as { text: string }).text);

describe('@plur-ai/mcp with mnemo as its remote store', () => {
  let plurId: string;
  let restId: string;

  it('is the real PLUR server, and lists mnemo as a remote store', async () => {
    expect(client.getServerVersion()).toMatchObject({ name: 'plur-mcp', version: PLUR_PACKAGE.version });
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of ['plur_learn', 'plur_recall', 'plur_feedback', 'plur_forget', 'plur_pin'])
      expect(names).toContain(name);
    const stores = json(await call('plur_stores_list')).stores as { url?: string; scope: string }[];
    expect(stores.filter((s) => s.url === server.url).map((s) => s.scope)).toEqual([
      `org:${org.id}`,
      hiddenScope,
    ]);
  });

  it('plur_learn into the remote scope creates the engram in mnemo', async () => {
    const learned = await call('plur_learn', {
      statement: 'Deploys run the database migrations first',
      scope: `org:${org.id}`,
      type: 'procedural',
      domain: 'software.deployment',
    });
    expect(learned.isError, JSON.stringify(learned)).toBeFalsy();
    const answer = json(learned);
    expect(answer).toMatchObject({ decision: 'ADD', scope: `org:${org.id}`, type: 'procedural' });
    plurId = answer.id;
    const rows = (await org.as(editor, 'GET', `/api/v1/engrams?scope=org:${org.id}`)).json.rows;
    expect(rows).toHaveLength(1);
    expect(rows[0].data).toMatchObject({
      statement: 'Deploys run the database migrations first',
      type: 'procedural',
      domain: 'software.deployment',
      content_hash: answer.content_hash,
    });
    restId = rows[0].id;
    // PLUR namespaces a remote store's ids (ENG-<store>-<date>-<n>); the date and counter are mnemo's.
    expect(plurId.replace(/^ENG-[A-Z]+-/, 'ENG-')).toBe(restId);
  });

  it('plur_recall returns mnemo engrams and never one of a scope the key cannot read', async () => {
    const recalled = json(await call('plur_recall', { query: 'database migrations deploys' }));
    expect(recalled.results.map((r: { id: string }) => r.id)).toEqual([restId]);
    const hidden = json(await call('plur_recall', { query: 'kiwi rotation secret schedule' }));
    expect(hidden.results.map((r: { id: string }) => r.id)).not.toContain(hiddenId);
    expect(JSON.stringify(hidden)).not.toContain('Kiwi rotation');
  });

  it('plur_session_start injects the remote engram', async () => {
    const started = json(await call('plur_session_start', { task: 'deploy with database migrations' }));
    expect(started.engrams.injected_ids).toContain(plurId);
    expect(started.engrams.text).toContain('Deploys run the database migrations first');
  });

  it('plur_feedback reaches the engram in mnemo', async () => {
    expect(json(await call('plur_feedback', { id: plurId, signal: 'positive' }))).toMatchObject({
      success: true,
    });
    const row = await org.as(editor, 'GET', `/api/v1/engrams/${restId}`);
    expect(row.json.data.feedback_signals).toMatchObject({ positive: 1, negative: 0 });
  });

  it('permissions are mnemo’s: an editor’s pin is refused, a write into a group it is not in lands nowhere', async () => {
    const pin = await call('plur_pin', { id: plurId });
    expect(pin.isError).toBe(true);
    expect(JSON.stringify(pin.content)).toContain('Pinning needs the admin role');
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${restId}`)).json.data.pinned).toBe(false);

    const denied = await call('plur_learn', { statement: 'Sneak into the hidden group', scope: hiddenScope });
    // mnemo answers 403; PLUR keeps the engram in its local outbox, as it does for any refused remote write.
    expect(json(denied)).toMatchObject({
      outbox: true,
      warning: expect.stringMatching(/Remote write failed/),
    });
    await stderrMatching(
      new RegExp(
        `Remote store append failed: 403 .*write access to scope ${hiddenScope.replace(/[/.]/g, '\\$&')}`,
      ),
    );
    const rest = await org.as(editor, 'POST', '/api/v1/engrams', {
      statement: 'Sneak into the hidden group',
      scope: hiddenScope,
    });
    expect(rest.status).toBe(403);
    const inHidden = (await org.admin('GET', `/api/v1/engrams?scope=${hiddenScope}`)).json.rows;
    expect(inHidden.map((r: { id: string }) => r.id)).toEqual([hiddenId]);
  });

  it('plur_forget retires the engram in mnemo; recall stops returning it', async () => {
    const forgot = json(await call('plur_forget', { id: restId, scope: `org:${org.id}` }));
    expect(forgot).toMatchObject({ success: true });
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${restId}`)).json.status).toBe('retired');
    const recalled = json(await call('plur_recall', { query: 'database migrations deploys' }));
    expect(recalled.results.map((r: { id: string }) => r.id)).not.toContain(restId);
    // Nothing left this machine: the only refusals are PLUR's own update check.
    for (const line of stderr.split('\n').filter((l) => l.includes('[loopback-only-fetch]')))
      expect(line).toContain('https://registry.npmjs.org');
  });

  it('a revoked key: mnemo answers 401 and PLUR queues its writes; nothing reaches mnemo', async () => {
    const learned = json(
      await call('plur_learn', { statement: 'Canary releases go out at noon', scope: `org:${org.id}` }),
    );
    expect(learned).toMatchObject({ decision: 'ADD' });
    expect(learned.outbox).toBeUndefined();
    const before = json(await call('plur_recall', { query: 'canary releases noon' }));
    expect(before.results.map((r: { statement: string }) => r.statement)).toEqual([
      'Canary releases go out at noon',
    ]);

    expect((await org.as(editor, 'DELETE', `/api/v1/me/api-keys/${plurKey.id}`)).status).toBe(200);
    // PLUR's answer to a 401: its remote writes go to the outbox (reads may still come from its cache).
    const queued = json(
      await call('plur_learn', { statement: 'Written after the revocation', scope: `org:${org.id}` }),
    );
    expect(queued).toMatchObject({ outbox: true });
    await stderrMatching(
      /Remote store append failed: 401 \{"type":"https:\/\/mnemo\.dev\/errors\/unauthorized"/,
    );
    const rows = (await org.as(editor, 'GET', `/api/v1/engrams?scope=org:${org.id}`)).json.rows;
    expect(rows.map((r: { data: { statement: string } }) => r.data.statement)).not.toContain(
      'Written after the revocation',
    );
  });
});
