import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, PROBLEM_FIELDS, startEngramServer, type TestUser } from '../helpers/engram.js';
import { connectMcp, type McpSession } from '../helpers/mcp.js';
import { ADMIN_KEY, type TestServer } from '../helpers/server.js';
import { connectEvents, type EventClient } from '../helpers/ws.js';

/**
 * /mcp with an engram credential, through the official SDK client over real HTTP: the PLUR tool set, each
 * tool against the same routes REST serves, results visible over REST and on the event stream.
 */
const ENGRAM_TOOLS = [
  'plur_capture',
  'plur_feedback',
  'plur_forget',
  'plur_history',
  'plur_inject',
  'plur_learn',
  'plur_learn_batch',
  'plur_packs_export',
  'plur_packs_install',
  'plur_packs_job',
  'plur_packs_list',
  'plur_packs_uninstall',
  'plur_pin',
  'plur_promote',
  'plur_recall',
  'plur_session_end',
  'plur_session_start',
  'plur_status',
  'plur_timeline',
];

let server: TestServer;
let org: Org;
let editor: TestUser;
let mcp: McpSession;
let adminMcp: McpSession;
let events: EventClient | undefined;

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server);
  editor = await org.user('editor', 'editor');
  mcp = await connectMcp(server.url, editor.key);
  adminMcp = await connectMcp(server.url, ADMIN_KEY, { 'x-mnemo-org': org.id });
});
afterAll(async () => {
  await events?.close();
  await mcp?.close();
  await adminMcp?.close();
  await server.close();
});

describe('initialize and list', () => {
  it('negotiates the protocol version and names the server', () => {
    expect(mcp.client.getServerVersion()?.name).toBe('mnemo');
    expect(mcp.transport.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
    expect(mcp.client.getServerCapabilities()?.tools).toBeDefined();
    expect(mcp.client.getInstructions()).toContain('plur_session_start');
  });

  it('an older protocol version the SDK supports is accepted as asked', async () => {
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${editor.key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-03-26',
          capabilities: {},
          clientInfo: { name: 'old', version: '1' },
        },
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { protocolVersion: string } };
    expect(body.result.protocolVersion).toBe('2025-03-26');
  });

  it('lists exactly the PLUR tools, each with an object input schema and a description', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(ENGRAM_TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.description?.length).toBeGreaterThan(40);
    }
    const adminTools = await adminMcp.client.listTools();
    expect(adminTools.tools.map((t) => t.name).sort()).toEqual(ENGRAM_TOOLS);
  });
});

describe('engram tools', () => {
  it('plur_learn: visible over REST and announced on the event stream', async () => {
    events = await connectEvents(server, editor.key, { path: '/api/v1/events' });
    await events.subscribe({ types: ['engram.*'] });
    const result = await mcp.call('plur_learn', {
      statement: 'Run database migrations before deploying the API',
      type: 'procedural',
      domain: 'software.deployment',
      tags: ['deploy'],
    });
    expect(result.isError).toBeFalsy();
    const learned = result.structuredContent as Record<string, string>;
    expect(learned).toMatchObject({ decision: 'ADD', type: 'procedural', status: 'active' });
    expect(learned.id).toMatch(/^ENG-\d{4}-\d\d-\d\d-\d{3}$/);
    expect((result.content[0] as { text: string }).text).toContain(learned.id);

    const rest = await org.as(editor, 'GET', `/api/v1/engrams/${learned.id}`);
    expect(rest.status).toBe(200);
    expect(rest.json.data.statement).toBe('Run database migrations before deploying the API');
    const event = await events.waitFor((f) => f.type === 'engram.created');
    expect(JSON.stringify(event.data)).toContain(learned.id);

    const again = await mcp.ok('plur_learn', {
      statement: 'Run database migrations before deploying the API',
    });
    expect(again).toMatchObject({ id: learned.id, decision: 'NOOP' });
  });

  it('plur_learn_batch: ids aligned to the input, a failing item reported without stopping the rest', async () => {
    const batch = await mcp.ok('plur_learn_batch', {
      engrams: [
        { statement: 'Batch lesson one about caching' },
        { statement: 'Batch lesson two', scope: 'group:nobody-here' },
        { statement: 'Batch lesson three about queues' },
      ],
    });
    expect(batch.ids).toHaveLength(3);
    expect(batch.ids[1]).toBeNull();
    expect(batch.stats).toMatchObject({ added: 2, failed: 1 });
    expect(batch.failures[0]).toMatchObject({ input_index: 1, error: { status: 403 } });
    for (const id of [batch.ids[0], batch.ids[2]])
      expect((await org.as(editor, 'GET', `/api/v1/engrams/${id}`)).status).toBe(200);
  });

  it('plur_recall: hybrid and keyword, scope and domain narrowing, a token budget', async () => {
    const hybrid = await mcp.ok('plur_recall', { query: 'database migrations deploy' });
    expect(hybrid.mode).toMatch(/^hybrid/);
    expect(hybrid.results[0].statement).toContain('migrations');
    const keyword = await mcp.ok('plur_recall', { query: 'migrations', mode: 'keyword', domain: 'software' });
    expect(keyword.mode).toBe('keyword');
    expect(keyword.results.length).toBeGreaterThan(0);
    const otherDomain = await mcp.ok('plur_recall', {
      query: 'migrations',
      mode: 'keyword',
      domain: 'cooking',
    });
    expect(otherDomain.results).toEqual([]);
    const scoped = await mcp.ok('plur_recall', {
      query: 'migrations',
      scope: `user:${org.id}:editor`,
      mode: 'keyword',
    });
    expect(scoped.effective_scopes).toEqual([`user:${org.id}:editor`]);
    const tight = await mcp.ok('plur_recall', {
      query: 'lesson',
      mode: 'keyword',
      budget: { max_tokens: 5 },
    });
    expect(tight.results.length).toBeLessThan(2);
    expect(tight.tokens_used).toBeLessThanOrEqual(5);
  });

  it('plur_inject: sectioned text within the budget, the text as the text content', async () => {
    const result = await mcp.call('plur_inject', {
      task: 'deploy the API with database migrations',
      budget: 500,
    });
    const inject = result.structuredContent as { text: string; tokens_used: number; injected_ids: string[] };
    expect(inject.injected_ids.length).toBeGreaterThan(0);
    expect(inject.tokens_used).toBeLessThanOrEqual(500);
    expect((result.content[0] as { text: string }).text).toBe(inject.text);
  });

  it('plur_feedback single and batch, plur_history shows them', async () => {
    const { id } = await mcp.ok('plur_learn', { statement: 'Prefer small pull requests' });
    expect(await mcp.ok('plur_feedback', { id, signal: 'positive' })).toEqual({
      id,
      signal: 'positive',
      applied: true,
    });
    const batch = await mcp.ok('plur_feedback', {
      signals: [
        { id, signal: 'negative' },
        { id: 'ENG-1999-01-01-001', signal: 'positive' },
      ],
    });
    expect(batch.applied).toBe(1);
    expect(batch.failures).toEqual([
      { id: 'ENG-1999-01-01-001', error: expect.objectContaining({ status: 404 }) },
    ]);
    const row = await org.as(editor, 'GET', `/api/v1/engrams/${id}`);
    expect(row.json.data.feedback_signals).toMatchObject({ positive: 1, negative: 1 });

    const history = await mcp.ok('plur_history', { engram_id: id });
    expect(history.changes.map((c: { type: string }) => c.type)).toEqual([
      'engram.created',
      'engram.feedback',
      'engram.feedback',
    ]);
    expect(history.changes[0].actor).toMatchObject({ type: 'user' });
  });

  it('plur_forget retires; plur_history of a hidden or missing engram is a 404 tool error', async () => {
    const { id } = await mcp.ok('plur_learn', { statement: 'Use tabs for indentation' });
    expect(await mcp.ok('plur_forget', { id })).toMatchObject({ id, status: 'retired' });
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${id}`)).json.status).toBe('retired');
    const missing = await mcp.call('plur_history', { engram_id: 'ENG-1999-01-01-001' });
    expect(missing.isError).toBe(true);
    expect(missing.structuredContent).toMatchObject({
      status: 404,
      detail: 'Engram ENG-1999-01-01-001 not found',
    });
  });

  it('plur_forget by search: one match is retired, several are listed with nothing retired, none is a 404', async () => {
    const rotate = await mcp.ok('plur_learn', { statement: 'Rotate the zebra credentials monthly' });
    const boards = await mcp.ok('plur_learn', { statement: 'Zebra dashboards live in grafana' });
    const several = await mcp.call('plur_forget', { search: 'zebra' });
    expect(several.isError).toBe(true);
    const problem = several.structuredContent as { matches: { id: string }[] } & Record<string, unknown>;
    for (const field of PROBLEM_FIELDS) expect(problem).toHaveProperty(field);
    expect(problem).toMatchObject({ status: 409, total: 2, instance: 'mcp:tools/plur_forget' });
    expect(problem.matches.map((m) => m.id).sort()).toEqual([rotate.id, boards.id].sort());
    expect(problem.matches).toContainEqual({
      id: rotate.id,
      statement: 'Rotate the zebra credentials monthly',
      scope: `user:${org.id}:editor`,
    });
    const text = (several.content[0] as { text: string }).text;
    expect(text).toContain(rotate.id);
    expect(text).toContain(boards.id);
    for (const id of [rotate.id, boards.id])
      expect((await org.as(editor, 'GET', `/api/v1/engrams/${id}`)).json.status).toBe('active');

    expect(await mcp.ok('plur_forget', { search: 'credentials' })).toEqual({
      id: rotate.id,
      scope: `user:${org.id}:editor`,
      status: 'retired',
      statement: 'Rotate the zebra credentials monthly',
    });
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${rotate.id}`)).json.status).toBe('retired');
    // A retired engram is no candidate any more: the same search now has one match.
    expect(await mcp.ok('plur_forget', { search: 'zebra' })).toMatchObject({
      id: boards.id,
      status: 'retired',
    });

    const none = await mcp.call('plur_forget', { search: 'xylophone' });
    expect(none.isError).toBe(true);
    expect(none.structuredContent).toMatchObject({
      status: 404,
      detail: 'No active engram you can read matches "xylophone"',
    });
    for (const args of [{}, { id: rotate.id, search: 'zebra' }]) {
      const both = await mcp.call('plur_forget', args);
      expect(both.isError).toBe(true);
      expect(both.structuredContent).toMatchObject({ status: 400, detail: 'Give id or search' });
    }
  });

  it('plur_forget by search has REST permissions: scope narrows, hidden engrams are never found, a viewer cannot retire', async () => {
    const shared = await mcp.ok('plur_learn', {
      statement: 'Quokka builds ship on Tuesdays',
      scope: `org:${org.id}`,
    });
    const mine = await mcp.ok('plur_learn', { statement: 'Quokka notes for myself' });
    const hidden = await org.group('mcp-hidden');
    const secret = await org.engram(null, {
      statement: 'Narwhal launch codes live here',
      scope: hidden.scope,
    });

    const notFound = await mcp.call('plur_forget', { search: 'narwhal launch codes' });
    expect(notFound.structuredContent).toMatchObject({ status: 404 });
    expect(JSON.stringify(notFound)).not.toContain(secret.id);
    expect((await org.admin('GET', `/api/v1/engrams/${secret.id}`)).json.status).toBe('active');

    const viewer = await org.user('quokka-viewer', 'viewer');
    const viewerMcp = await connectMcp(server.url, viewer.key);
    try {
      const refused = await viewerMcp.call('plur_forget', { search: 'quokka', scope: `org:${org.id}` });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent).toMatchObject({ status: 403 });
      const rest = await org.as(viewer, 'DELETE', `/api/v1/engrams/${shared.id}`);
      expect(rest.status).toBe(403);
      expect((await org.as(editor, 'GET', `/api/v1/engrams/${shared.id}`)).json.status).toBe('active');
    } finally {
      await viewerMcp.close();
    }

    // Two engrams match "quokka"; the scope leaves one.
    expect(await mcp.ok('plur_forget', { search: 'quokka', scope: `org:${org.id}` })).toMatchObject({
      id: shared.id,
      status: 'retired',
    });
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${mine.id}`)).json.status).toBe('active');
  });

  it('sessions: start injects, end turns suggestions into candidates, plur_promote activates them', async () => {
    const started = await mcp.ok('plur_session_start', { task: 'deploy the API', tags: ['deploy'] });
    expect(started.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(started.engrams.count).toBeGreaterThan(0);
    const ended = await mcp.ok('plur_session_end', {
      session_id: started.session_id,
      summary: 'Deployed the API after migrating',
      engram_suggestions: [
        'Check the migration lock before deploying',
        { statement: 'Tag releases after deploy' },
      ],
    });
    expect(ended.engrams_created).toBe(2);
    const [first, second] = ended.candidate_ids as string[];
    expect((await org.as(editor, 'GET', `/api/v1/engrams/${first}`)).json.status).toBe('candidate');
    const one = await mcp.ok('plur_promote', { id: first });
    expect(one.engram.status).toBe('active');
    const many = await mcp.ok('plur_promote', { ids: [first, second] });
    expect(many.promoted).toBe(1);
    expect(many.failures).toEqual([{ id: first, error: expect.objectContaining({ status: 409 }) }]);

    const session = await mcp.client.readResource({ uri: `mnemo://sessions/${started.session_id}` });
    expect(JSON.parse((session.contents[0] as { text: string }).text)).toMatchObject({
      session_id: started.session_id,
      status: 'ended',
    });
  });

  it('plur_capture and plur_timeline with the PLUR filter names', async () => {
    const captured = await mcp.ok('plur_capture', {
      summary: 'Rolled back release 42',
      agent: 'ci-bot',
      channel: 'ops',
    });
    expect(captured).toMatchObject({ summary: 'Rolled back release 42', agent: 'ci-bot', channel: 'ops' });
    const timeline = await mcp.ok('plur_timeline', { agent: 'ci-bot', since: '2000-01-01' });
    expect(timeline.rows.map((r: { id: string }) => r.id)).toEqual([captured.id]);
    const none = await mcp.ok('plur_timeline', { agent: 'ci-bot', until: '2000-01-01' });
    expect(none.rows).toEqual([]);
  });

  it('plur_status: who you are and the counts by status', async () => {
    const status = await mcp.ok('plur_status');
    expect(status).toMatchObject({ username: 'editor', org_id: org.id, role: 'editor' });
    // The plur_forget tests above retired four.
    expect(status.engrams_by_status.retired).toBe(4);
    for (const state of ['active', 'candidate', 'dormant', 'retired']) {
      const rest = await org.as(editor, 'GET', `/api/v1/engrams?status=${state}&limit=1`);
      expect(status.engrams_by_status[state], state).toBe(rest.json.total_count);
    }
    expect(status.engram_count).toBe(
      Object.values(status.engrams_by_status as Record<string, number>).reduce((a, b) => a + b, 0),
    );
  });

  it('plur_pin needs the admin role in the scope; the audit entry says it came through MCP', async () => {
    const { id } = await mcp.ok('plur_learn', {
      statement: 'Never deploy on Fridays',
      scope: `org:${org.id}`,
    });
    const denied = await mcp.call('plur_pin', { id });
    expect(denied.isError).toBe(true);
    expect(denied.structuredContent).toMatchObject({ status: 403 });
    const pinned = await adminMcp.ok('plur_pin', { id });
    expect(pinned.engram.data.pinned).toBe(true);
    expect((await adminMcp.ok('plur_pin', { id, pinned: false })).engram.data.pinned).toBe(false);
    const audit = await server.services.audit.recent(org.id, 20);
    const pins = audit.filter((e) => e.target.id === id);
    expect(pins.map((e) => [e.action, e.outcome, e.channel])).toEqual([
      ['engram.unpin', 'success', 'mcp'],
      ['engram.pin', 'success', 'mcp'],
      ['engram.pin', 'denied', 'mcp'],
      ['engram.create', 'success', 'mcp'],
    ]);
    expect(pins[0]?.user_agent).toBeTruthy();
  });
});

describe('resources', () => {
  it('lists me and the templates; reads me, an engram, and 404s what is not yours', async () => {
    const { resources } = await mcp.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['mnemo://me']);
    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      'mnemo://engrams/{id}',
      'mnemo://sessions/{id}',
    ]);
    const me = await mcp.client.readResource({ uri: 'mnemo://me' });
    expect(JSON.parse((me.contents[0] as { text: string }).text)).toMatchObject({ username: 'editor' });
    const { id } = await mcp.ok('plur_learn', { statement: 'Resources are read-only views' });
    const engram = await mcp.client.readResource({ uri: `mnemo://engrams/${id}` });
    expect(JSON.parse((engram.contents[0] as { text: string }).text)).toMatchObject({ id, status: 'active' });
    await expect(mcp.client.readResource({ uri: 'mnemo://engrams/ENG-1999-01-01-001' })).rejects.toThrow(
      /not found/,
    );
    await expect(mcp.client.readResource({ uri: 'mnemo://nothing' })).rejects.toThrow(/No resource/);
    await expect(mcp.client.readResource({ uri: 'mnemo://engrams/%E0%A4%A' })).rejects.toThrow(/No resource/);
    await expect(mcp.client.readResource({ uri: 'mnemo://sessions/not-a-uuid' })).rejects.toThrow(
      /session|id/,
    );
  });
});

describe('bad tool input', () => {
  it('wrong types, missing fields, oversize values and unknown tools are tool errors; nothing is written', async () => {
    const before = (await org.as(editor, 'GET', '/api/v1/engrams?limit=1')).json.total_count as number;
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['plur_learn', {}, /statement is required/],
      ['plur_learn', { statement: 42 }, /statement must be string/],
      ['plur_learn', { statement: 'x'.repeat(5001) }, /statement/],
      ['plur_learn', { statement: 'ok', type: 'nonsense' }, /type must be one of/],
      ['plur_learn', { statement: 'ok', scope: 'group:not-a-member' }, /write access/],
      ['plur_learn_batch', { engrams: [] }, /engrams/],
      ['plur_recall', { query: '' }, /query/],
      ['plur_recall', { query: 'x', limit: 1000 }, /limit/],
      ['plur_feedback', { id: 'ENG-2020-01-01-001' }, /Give id and signal/],
      ['plur_promote', {}, /Give id or ids/],
      ['plur_session_end', { session_id: 'nope', summary: 's', engram_suggestions: [] }, /session_id/],
      ['plur_timeline', { since: 'yesterday' }, /from/],
      ['plur_history', { engram_id: '../../etc' }, /engram_id/],
      ['plur_nothing', {}, /No tool named plur_nothing/],
    ];
    for (const [name, args, detail] of cases) {
      const result = await mcp.call(name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      const problem = result.structuredContent as Record<string, unknown>;
      for (const field of PROBLEM_FIELDS) expect(problem).toHaveProperty(field);
      expect(String(problem.detail), name).toMatch(detail);
      expect((result.content[0] as { text: string }).text).toContain(String(problem.detail));
    }
    expect((await org.as(editor, 'GET', '/api/v1/engrams?limit=1')).json.total_count).toBe(before);
    // The server is still answering.
    expect((await mcp.client.listTools()).tools.length).toBe(ENGRAM_TOOLS.length);
  });
});
