import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import { connectMcp, type McpSession } from '../helpers/mcp.js';
import { createLayerKey, type TestServer } from '../helpers/server.js';

/**
 * /mcp authentication and permissions: the same credentials, refusals, scope rules and rate limits as
 * REST, because every tool runs the REST route as its caller.
 */
let server: TestServer;
let org: Org;
let editor: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let team: { id: string; scope: string };
let hiddenId: string;
const open: McpSession[] = [];

const SECRET = 'wombat saxophone lighthouse';

async function connect(token: string): Promise<McpSession> {
  const session = await connectMcp(server.url, token);
  open.push(session);
  return session;
}

beforeAll(async () => {
  server = await startEngramServer({ engramRateLimitRpm: 1_000_000, engramWriteRateLimitRpm: 1_000_000 });
  org = new Org(server);
  [editor, viewer, outsider] = await Promise.all([
    org.user('editor', 'editor'),
    org.user('viewer', 'editor'),
    org.user('outsider', 'editor'),
  ]);
  team = await org.group('team');
  await org.member(team.id, editor, 'editor');
  await org.member(team.id, viewer, 'viewer');
  hiddenId = (await org.engram(editor, { statement: `The team ${SECRET} rule`, scope: team.scope })).id;
});
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await server.close();
});

const post = (token: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/mcp`, {
    method: 'POST',
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

describe('authentication', () => {
  it('401 with a Bearer challenge for a missing, malformed, unknown or wrong-kind credential', async () => {
    for (const [token, header] of [
      [undefined, undefined],
      ['plur_sk_0000000000000000000000000000000000000000', undefined],
      ['not-a-key', undefined],
      [undefined, 'Basic dXNlcjpwYXNz'],
    ] as const) {
      const res = await post(token, initialize, header ? { authorization: header } : {});
      expect(res.status, String(token ?? header)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="mnemo", error="invalid_(token|request)"$/,
      );
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    await expect(connectMcp(server.url, 'plur_sk_nope')).rejects.toThrow(/401|Unauthorized/);
  });

  it('GET (no server stream in stateless mode) and DELETE are 405; bad JSON is a JSON-RPC parse error', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${server.url}/mcp`, {
        method,
        headers: { authorization: `Bearer ${editor.key}` },
      });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
    const bad = await post(editor.key, '{"jsonrpc":');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const empty = await post(editor.key, '');
    expect(empty.status).toBe(400);
  });

  it('a malformed JSON-RPC message is a JSON-RPC error, and the server keeps answering', async () => {
    const headers = { 'mcp-protocol-version': '2025-06-18' };
    for (const message of [
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'plur_status', arguments: 'not-an-object' },
      },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: {} },
      { jsonrpc: '2.0', id: 4, method: 'no/such/method' },
    ]) {
      const res = await post(editor.key, message, headers);
      const body = (await res.json()) as { id: number; error?: { code: number } };
      expect(body.error?.code, JSON.stringify(message)).toBeLessThan(0);
    }
    const ok = await post(editor.key, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, headers);
    expect(((await ok.json()) as { result: { tools: unknown[] } }).result.tools.length).toBe(19);
  });

  it('a body over the limit is 413 before it is parsed', async () => {
    const huge = JSON.stringify({
      ...initialize,
      padding: 'x'.repeat(server.services.config.bodyLimitBytes),
    });
    const res = await post(editor.key, huge);
    expect(res.status).toBe(413);
  });

  it('a key revoked mid-session is refused on its very next request', async () => {
    const minted = await org.as(editor, 'POST', '/api/v1/me/api-keys', { label: 'mcp' });
    expect(minted.status).toBe(201);
    const session = await connect(minted.json.key);
    expect((await session.ok('plur_status')).username).toBe('editor');
    expect((await org.as(editor, 'DELETE', `/api/v1/me/api-keys/${minted.json.id}`)).status).toBe(200);
    await expect(session.call('plur_status')).rejects.toThrow(/401|Unauthorized/);
    await expect(session.client.listTools()).rejects.toThrow(/401|Unauthorized/);
  });
});

describe('origins', () => {
  it('with a CORS list, a foreign Origin is refused before authentication; an allowed one is served', async () => {
    const listed = await startEngramServer({ corsOrigins: ['https://app.example'] });
    try {
      const send = (origin: string) =>
        fetch(`${listed.url}/mcp`, {
          method: 'POST',
          headers: {
            origin,
            authorization: 'Bearer plur_sk_0000000000000000000000000000000000000000',
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify(initialize),
        });
      const foreign = await send('https://evil.example');
      expect(foreign.status).toBe(403);
      expect(((await foreign.json()) as { detail: string }).detail).toBe(
        'Origin https://evil.example is not allowed',
      );
      const allowed = await send('https://app.example');
      expect(allowed.status).toBe(401); // past the origin check, refused for its (unknown) key
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const preflight = await fetch(`${listed.url}/mcp`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
    } finally {
      await listed.close();
    }
  });
});

describe('permissions match REST', () => {
  it("a viewer's plur_learn into the group scope fails with the REST 403; nothing is created", async () => {
    const session = await connect(viewer.key);
    const rest = await org.as(viewer, 'POST', '/api/v1/engrams', {
      statement: 'Viewer lesson',
      scope: team.scope,
    });
    const result = await session.call('plur_learn', { statement: 'Viewer lesson', scope: team.scope });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({
      status: rest.status,
      detail: rest.json.detail,
      title: rest.json.title,
    });
    expect(rest.status).toBe(403);
    const listed = await org.as(editor, 'GET', `/api/v1/engrams?scope=${encodeURIComponent(team.scope)}`);
    expect(listed.json.rows.map((r: { id: string }) => r.id)).toEqual([hiddenId]);
    // The viewer still reads the team's engram.
    const found = await session.ok('plur_recall', { query: SECRET, mode: 'keyword' });
    expect(found.results.map((r: { id: string }) => r.id)).toEqual([hiddenId]);
  });

  it("a non-member's recall, inject, history and resource read never reveal the team's engram", async () => {
    const session = await connect(outsider.key);
    for (const mode of ['keyword', 'hybrid']) {
      const recall = await session.ok('plur_recall', { query: SECRET, mode });
      expect(recall.results, mode).toEqual([]);
      const scoped = await session.ok('plur_recall', { query: SECRET, mode, scope: team.scope });
      expect(scoped.results).toEqual([]);
      expect(scoped.dropped_scopes).toEqual([team.scope]);
    }
    const inject = await session.ok('plur_inject', { task: `follow the ${SECRET} rule` });
    expect(inject.injected_ids).toEqual([]);
    const history = await session.call('plur_history', { engram_id: hiddenId });
    const missing = await session.call('plur_history', { engram_id: 'ENG-1999-01-01-001' });
    expect(history.structuredContent).toMatchObject({ status: 404 });
    expect(Object.keys(history.structuredContent ?? {})).toEqual(
      Object.keys(missing.structuredContent ?? {}),
    );
    for (const tool of ['plur_forget', 'plur_pin', 'plur_promote'])
      expect((await session.call(tool, { id: hiddenId })).structuredContent, tool).toMatchObject({
        status: 404,
      });
    await expect(session.client.readResource({ uri: `mnemo://engrams/${hiddenId}` })).rejects.toThrow(
      /not found/,
    );
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${hiddenId}`)).json.status).toBe('active');
  });

  it('a layer key gets the layer tools only: PLUR tools are unknown to it', async () => {
    const key = await createLayerKey(server, `mcp-${org.id}`);
    const session = await connect(key);
    const result = await session.call('plur_learn', { statement: 'x' });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ status: 404, detail: 'No tool named plur_learn' });
  });
});

describe('rate limits', () => {
  it('tool calls count like the REST requests they mirror: past the limit a 429 tool error with retry_after', async () => {
    const limited = await startEngramServer({ engramRateLimitRpm: 1_000_000, engramWriteRateLimitRpm: 2 });
    try {
      const limitedOrg = new Org(limited);
      const user = await limitedOrg.user('writer', 'editor');
      const session = await connectMcp(limited.url, user.key);
      try {
        await session.ok('plur_learn', { statement: 'first' });
        await session.ok('plur_learn', { statement: 'second' });
        const third = await session.call('plur_learn', { statement: 'third' });
        expect(third.isError).toBe(true);
        expect(third.structuredContent).toMatchObject({ status: 429 });
        expect(
          (third.structuredContent as { retry_after_seconds: number }).retry_after_seconds,
        ).toBeGreaterThan(0);
        // Reads are in the general bucket, which is not exhausted.
        expect((await session.call('plur_recall', { query: 'first' })).isError).toBeFalsy();
        const rows = await limitedOrg.as(user, 'GET', '/api/v1/engrams');
        expect(rows.json.rows.map((r: { data: { statement: string } }) => r.data.statement)).toEqual([
          'first',
          'second',
        ]);
      } finally {
        await session.close();
      }
    } finally {
      await limited.close();
    }
  });
});
