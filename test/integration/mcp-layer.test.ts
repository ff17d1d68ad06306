import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, type McpSession } from '../helpers/mcp.js';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';

/**
 * /mcp with a layer (workspace) key: the memory tools over the /v1 routes, and two instances on one Redis
 * serving one client (the endpoint is stateless, so there is no session to carry over).
 */
const LAYER_TOOLS = ['clear_working', 'context', 'forget', 'forget_user', 'recall', 'remember', 'stats'];

let a: TestServer;
let b: TestServer;
let key: string;
let workspace: string;
let mcp: McpSession;
let onB: McpSession;

beforeAll(async () => {
  [a, b] = await Promise.all([startServer(), startServer()]);
  workspace = uniqueWorkspace('mcp');
  key = await createLayerKey(a, workspace);
  mcp = await connectMcp(a.url, key);
  onB = await connectMcp(b.url, key);
});
afterAll(async () => {
  await mcp?.close();
  await onB?.close();
  await Promise.all([a?.close(), b?.close()]);
});

describe('layer tools', () => {
  it('lists exactly the memory tools, with the /v1 routes’ own input schemas', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(LAYER_TOOLS);
    const remember = tools.find((t) => t.name === 'remember');
    expect(remember?.inputSchema.required).toEqual(['content']);
    expect(
      (remember?.inputSchema.properties as Record<string, { maxLength?: number }>).content?.maxLength,
    ).toBe(8000);
    expect(mcp.client.getInstructions()).toContain('remember');
  });

  it('remember, recall, context and stats; the memory is visible over REST and on the other instance', async () => {
    const remembered = await mcp.ok('remember', {
      content: 'The user prefers green tea in the morning',
      user_id: 'alice',
      importance: 0.8,
    });
    expect(remembered.working_entry_id).toBeTruthy();
    const rest = await b.request('GET', `/v1/memory/${remembered.episode_id}`, { token: key });
    expect(rest.status).toBe(200);

    const recalled = await onB.call('recall', { query: 'green tea', user_id: 'alice' });
    const results = (recalled.structuredContent as { results: { id: string; content: string }[] }).results;
    expect(results.map((r) => r.id)).toContain(remembered.episode_id);
    expect((recalled.content[0] as { text: string }).text).toContain('green tea');

    const context = await mcp.call('context', { query: 'green tea', user_id: 'alice' });
    expect((context.structuredContent as { content: string }).content).toContain('green tea');
    expect((context.content[0] as { text: string }).text).toContain('green tea');

    const stats = await onB.ok('stats', { user_id: 'alice' });
    expect(stats).toMatchObject({ workspace_id: workspace, working_entries: 1, episodic_records: 1 });
  });

  it('clear_working, forget and forget_user delete what REST would', async () => {
    const first = await mcp.ok('remember', { content: 'Bob is allergic to peanuts', user_id: 'bob' });
    const second = await mcp.ok('remember', { content: 'Bob lives in Lisbon', user_id: 'bob' });
    const cleared = await mcp.ok('clear_working', { user_id: 'bob' });
    expect(cleared.deleted).toBe(2);
    expect((await a.request('GET', `/v1/memory/${first.working_entry_id}`, { token: key })).status).toBe(404);

    const forgotten = await onB.ok('forget', { memory_id: first.episode_id });
    expect(forgotten).toBeTruthy();
    expect((await a.request('GET', `/v1/memory/${first.episode_id}`, { token: key })).status).toBe(404);
    expect((await a.request('GET', `/v1/memory/${second.episode_id}`, { token: key })).status).toBe(200);

    const erased = await mcp.ok('forget_user', { user_id: 'bob' });
    expect(erased.deleted).toBeGreaterThan(0);
    expect((await a.request('GET', `/v1/memory/${second.episode_id}`, { token: key })).status).toBe(404);
    expect((await mcp.ok('stats', { user_id: 'bob' })).episodic_records).toBe(0);
  });

  it('bad input is a tool error in the problem shape and changes nothing', async () => {
    const before = await mcp.ok('stats');
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['remember', {}, /content is required/],
      ['remember', { content: 'x'.repeat(8001) }, /content/],
      ['remember', { content: 'ok', importance: 7 }, /importance/],
      ['remember', { content: 'ok', user_id: 'has spaces' }, /user_id/],
      ['recall', { query: 'x', top_k: 1000 }, /top_k/],
      ['recall', { query: 'x', layers: ['nope'] }, /Invalid layer/],
      ['context', { query: 'x', token_budget: 1 }, /token_budget/],
      ['forget', { memory_id: '../etc/passwd' }, /memory_id/],
      ['forget', { memory_id: 'mem_doesnotexist' }, /not found/i],
      ['forget_user', {}, /user_id is required/],
      ['clear_working', { layer: 'episodic' }, /Invalid layer/],
      ['plur_learn', { statement: 'x' }, /No tool named plur_learn/],
    ];
    for (const [name, args, detail] of cases) {
      const result = await mcp.call(name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(String((result.structuredContent as { detail: string }).detail), name).toMatch(detail);
    }
    expect(await mcp.ok('stats')).toMatchObject({
      working_entries: before.working_entries,
      episodic_records: before.episodic_records,
    });
  });

  it('the layer key reads mnemo://me and has no engram resources', async () => {
    const me = await mcp.client.readResource({ uri: 'mnemo://me' });
    expect(JSON.parse((me.contents[0] as { text: string }).text)).toMatchObject({ workspace_id: workspace });
    expect((await mcp.client.listResourceTemplates()).resourceTemplates).toEqual([]);
    await expect(mcp.client.readResource({ uri: 'mnemo://engrams/ENG-2020-01-01-001' })).rejects.toThrow(
      /No resource/,
    );
  });
});

describe('two instances', () => {
  it('a client initialized on one instance keeps working on the other without initializing there', async () => {
    const version = mcp.transport.protocolVersion;
    expect(version).toBeTruthy();
    const res = await fetch(`${b.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': version ?? '',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'stats', arguments: {} },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    const body = (await res.json()) as {
      id: number;
      result: { structuredContent: { workspace_id: string } };
    };
    expect(body.id).toBe(7);
    expect(body.result.structuredContent.workspace_id).toBe(workspace);
  });

  it('a key revoked through one instance is refused at once by the other, mid-session', async () => {
    const revocable = await createLayerKey(a, workspace);
    const session = await connectMcp(b.url, revocable);
    try {
      expect((await session.ok('stats')).workspace_id).toBe(workspace);
      const me = await b.request('GET', '/v1/me', { token: revocable });
      const revoked = await a.request('DELETE', `/admin/keys/${me.json.key_id}`, { token: ADMIN_KEY });
      expect(revoked.status).toBe(200);
      // Revocation reaches b's credential cache by pub/sub; poll with a deadline rather than sleep.
      const deadline = Date.now() + 10_000;
      let refused: unknown;
      while (refused === undefined && Date.now() < deadline) {
        await session.call('stats').catch((err: unknown) => {
          refused = err;
        });
      }
      expect(String(refused)).toMatch(/401|Unauthorized/);
      await expect(session.client.listTools()).rejects.toThrow(/401|Unauthorized/);
    } finally {
      await session.close();
    }
  });

  it('an unsupported MCP-Protocol-Version header is refused (400), as the SDK negotiates', async () => {
    const res = await fetch(`${b.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '1999-01-01',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/list' }),
    });
    expect(res.status).toBe(400);
  });
});
