import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { NO_LIMITS, Org } from '../helpers/engram.js';
import { connectMcp } from '../helpers/mcp.js';
import { Browser, TestIdp } from '../helpers/oidc-idp.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * /mcp with the identity credentials (issue 14: "an OIDC session or IdP token"): a session token from the
 * authorization code flow against a real OpenID Connect provider on 127.0.0.1 (oidc-provider, started
 * here) and an IdP client-credentials access token, each as the MCP client's Bearer. They get the PLUR
 * tools with the user's own permissions, and a logout cuts the MCP client off on its next request.
 */
const AUDIENCE = 'https://mnemo.test/api';

let idp: TestIdp;
let server: TestServer;
let org: Org;

beforeAll(async () => {
  idp = await TestIdp.start(AUDIENCE, {
    alice: { preferred_username: 'alice', email: 'alice@example.com', mnemo_role: 'editor' },
  });
  const orgId = `mcp-sso-${randomHex(4)}`;
  server = await startServer({
    ...NO_LIMITS,
    oidcIssuers: JSON.stringify([idp.webIssuer(orgId)]),
    oidcScopes: 'openid profile email',
    sessionSecrets: [`mcp-session-secret-${randomHex(16)}`],
  });
  org = Object.assign(new Org(server, 'x'), { id: orgId });
  idp.configure([`${server.url}/auth/callback`]);
});
afterAll(async () => {
  await server?.close();
  await idp?.close();
});

describe('identity credentials on /mcp', () => {
  it('a session token gets the PLUR tools as its user; after logout the same client is refused', async () => {
    const { res } = await new Browser().signIn(`${server.url}/auth/login`, 'alice');
    const token = ((await res.json()) as { token: string }).token;
    const mcp = await connectMcp(server.url, token);
    try {
      const { tools } = await mcp.client.listTools();
      expect(tools.map((t) => t.name)).toContain('plur_learn');
      expect(tools.map((t) => t.name)).not.toContain('remember');
      expect(await mcp.ok('plur_status')).toMatchObject({
        username: 'alice',
        org_id: org.id,
        role: 'editor',
      });
      const learned = await mcp.ok('plur_learn', { statement: 'Sessions reach memory over MCP too' });
      const rest = await org.as(token, 'GET', `/api/v1/engrams/${learned.id}`);
      expect(rest.json.data.statement).toBe('Sessions reach memory over MCP too');
      const audit = (await server.services.audit.recent(org.id, 20)).find((e) => e.target.id === learned.id);
      expect(audit).toMatchObject({ action: 'engram.create', outcome: 'success', channel: 'mcp' });

      expect((await server.request('POST', '/auth/logout', { token })).status).toBe(200);
      await expect(mcp.client.listTools()).rejects.toThrow(/401|Unauthorized|invalid_token/i);
    } finally {
      await mcp.close();
    }
  });

  it("an IdP access token is its subject, a viewer: another user's personal engram stays hidden, its write is the REST 403", async () => {
    const mcp = await connectMcp(server.url, await idp.clientCredentialsToken());
    try {
      expect(await mcp.ok('plur_status')).toMatchObject({ username: 'mnemo-bot', role: 'viewer' });
      const recalled = await mcp.ok('plur_recall', { query: 'sessions reach memory', mode: 'keyword' });
      expect(recalled.results.map((r: { statement: string }) => r.statement)).toEqual([]);
      const denied = await mcp.call('plur_learn', {
        statement: 'Bots may not write',
        scope: `org:${org.id}`,
      });
      expect(denied.isError).toBe(true);
      expect(denied.structuredContent).toMatchObject({ status: 403 });
    } finally {
      await mcp.close();
    }
  });
});
