import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * The official MCP SDK client against a real mnemo over real HTTP. `connectMcp` initializes (the SDK
 * negotiates the protocol version); close every client in afterAll.
 */
export interface McpSession {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Calls a tool and returns its result (a tool error is a result with isError, not a throw). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Calls a tool and returns its structured content, failing the test on a tool error. */
  ok<T = any>(name: string, args?: Record<string, unknown>): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export async function connectMcp(
  baseUrl: string,
  token: string | undefined,
  headers: Record<string, string> = {},
): Promise<McpSession> {
  const client = new Client({ name: 'mnemo-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), {
    requestInit: {
      headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...headers },
    },
  });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    transport,
    call,
    ok: async (name, args = {}) => {
      const result = await call(name, args);
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.structuredContent)}`);
      return result.structuredContent as never;
    },
    close: () => client.close(),
  };
}
