import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import { connectMcp, type McpSession } from '../helpers/mcp.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let org: Org;
let editor: TestUser;
let mcp: McpSession;

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server);
  editor = await org.user('editor', 'editor');
  mcp = await connectMcp(server.url, editor.key);
});
afterAll(async () => {
  await mcp?.close();
  await server.close();
});

describe('smoke', () => {
  it('lists and learns', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toContain('plur_learn');
    const learned = await mcp.ok('plur_learn', { statement: 'Deploys happen on Tuesdays' });
    expect(learned.decision).toBe('ADD');
  });
});
