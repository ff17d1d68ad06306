import type { TObject } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { AccessObserver, ObservedRequest } from '../../auth/access-audit.js';
import type { AuthFailureGate } from '../../auth/auth-failure-limiter.js';
import type { Authenticated } from '../../auth/principal.js';
import { LAYER_KEY_PATTERN } from '../../auth/layer-keys.js';
import { MnemoError } from '../../errors.js';
import type { Services } from '../../services.js';
import { VERSION } from '../../version.js';
import { parseJsonBody } from '../body.js';
import { compileJsonSchema, validate, type CompiledRoute } from '../compile.js';
import type { FetchContext } from '../fetch-exchange.js';
import { authorizationToken } from '../request-headers.js';
import { requestIdFrom } from '../request-id.js';
import type { Authenticators, RateLimitCheck } from '../server.js';
import { isExpected, problemOf } from './problem.js';
import { McpResources } from './resources.js';
import { RouteCaller, type CallerContext } from './route-call.js';
import type { AnyTool, ToolAudience, ToolCall } from './tool.js';
import { buildTools } from './tools/index.js';

export interface McpEndpointDeps {
  services: Services;
  compiled: readonly CompiledRoute[];
  authenticators: Authenticators;
  rateLimiter: RateLimitCheck;
  authFailures: AuthFailureGate;
  /** Told about access of engram callers: authenticated users, 401/403 denials, 429s (audit, insights). */
  access?: AccessObserver;
}

const INSTRUCTIONS: Record<ToolAudience, string> = {
  engram:
    'mnemo engram memory (PLUR tools). Start with plur_session_start for a task, recall with plur_recall before ' +
    'deciding, store durable lessons with plur_learn, and end with plur_session_end.',
  layer:
    'mnemo layer memory. Recall with recall or context before answering; store what matters with remember.',
};

/**
 * /mcp: the Model Context Protocol over Streamable HTTP, on the official SDK's web-standard transport.
 *
 * Stateless by design: every POST is authenticated (Bearer: a layer key, a user key or the admin key),
 * then answered by a fresh SDK server and transport that live for that request only. No session lives in
 * any instance's memory, so any instance answers any request, a revoked key is refused on its next request,
 * and the SDK still negotiates the protocol version at initialize and checks the MCP-Protocol-Version header
 * after. mnemo sends no server-initiated messages, so there is no GET stream (405) and nothing to DELETE.
 */
export class McpEndpoint {
  private readonly tools: Map<ToolAudience, AnyTool[]>;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: RouteCaller;
  private readonly resources: McpResources;

  constructor(private readonly deps: McpEndpointDeps) {
    const all = buildTools(deps.compiled);
    this.tools = new Map([
      ['engram', all.filter((t) => t.audience === 'engram')],
      ['layer', all.filter((t) => t.audience === 'layer')],
    ]);
    for (const tool of all) this.validators.set(tool.name, compileJsonSchema(tool.input));
    this.routes = new RouteCaller(deps.compiled, deps.rateLimiter, deps.access);
    this.resources = new McpResources(this.routes);
  }

  /** The tool names offered to a credential kind (for docs and tests). */
  toolNames(audience: ToolAudience): string[] {
    return (this.tools.get(audience) ?? []).map((t) => t.name);
  }

  readonly handle = async (request: Request, context: FetchContext): Promise<Response> => {
    if (request.method !== 'POST') {
      return new Response(
        JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: {
            code: -32000,
            message: 'Method not allowed: this server is stateless and answers POST only',
          },
        }),
        { status: 405, headers: { Allow: 'POST', 'Content-Type': 'application/json' } },
      );
    }
    const caller = await this.authenticate(request, context);
    let message: unknown;
    try {
      message = parseJsonBody(context.body ?? Buffer.alloc(0));
    } catch (err) {
      return jsonRpcError(400, -32700, err instanceof Error ? err.message : 'Parse error');
    }
    if (message === undefined) return jsonRpcError(400, -32700, 'Empty body: send a JSON-RPC message');
    const server = this.serverFor(caller);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    try {
      await server.connect(transport);
      return await transport.handleRequest(request, { parsedBody: message });
    } finally {
      // The answer is complete (JSON mode): this request's server and transport end with it.
      await server.close().catch(() => undefined);
    }
  };

  private async authenticate(request: Request, context: FetchContext): Promise<CallerContext> {
    const { authFailures, authenticators } = this.deps;
    authFailures.refuseIfBlocked(context.ip);
    const header = (name: string): string | undefined => context.headers.values[name.toLowerCase()];
    let kind: ToolAudience = 'engram';
    let authenticated: Authenticated<unknown>;
    const requestId = requestIdFrom(request.headers.get('x-request-id') ?? '');
    try {
      const token = authorizationToken(context.headers);
      kind = token !== undefined && LAYER_KEY_PATTERN.test(token) ? 'layer' : 'engram';
      authenticated = await authenticators[kind]({ token, header });
    } catch (err) {
      const answer = await authFailures.answerFailure(context.ip, err);
      if (kind === 'engram')
        this.deps.access?.denied(answer, undefined, mcpRequest(requestId, context.ip, header, 'POST /mcp'));
      throw answer;
    }
    const origin = { channel: 'mcp' as const, ip: context.ip, userAgent: header('user-agent') };
    if (kind === 'engram') {
      this.deps.access?.authenticated(authenticated.principal);
      // Engram services name the origin in the audit entries they write (EngramCaller.origin).
      authenticated = { ...authenticated, principal: { ...(authenticated.principal as object), origin } };
    }
    return {
      kind,
      authenticated,
      requestId,
      origin,
      header,
    };
  }

  private serverFor(caller: CallerContext): Server {
    const tools = this.tools.get(caller.kind) ?? [];
    const server = new Server(
      { name: 'mnemo', version: VERSION },
      { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS[caller.kind] },
    );
    server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: tools.map((tool) => ({
        name: tool.name,
        title: tool.title,
        description: tool.description,
        inputSchema: listedSchema(tool.input),
        ...(tool.annotations ? { annotations: tool.annotations } : {}),
      })),
    }));
    server.setRequestHandler(CallToolRequestSchema, (req) => {
      const tool = tools.find((t) => t.name === req.params.name);
      if (!tool)
        return toolError(req.params.name, new MnemoError('not_found', `No tool named ${req.params.name}`));
      return this.callTool(tool, req.params.arguments ?? {}, caller);
    });
    server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: this.resources.list(caller) }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
      resourceTemplates: this.resources.templates(caller),
    }));
    server.setRequestHandler(ReadResourceRequestSchema, (req) => this.resources.read(caller, req.params.uri));
    return server;
  }

  private async callTool(
    tool: AnyTool,
    args: Record<string, unknown>,
    caller: CallerContext,
  ): Promise<CallToolResult> {
    try {
      const input = structuredClone(args);
      validate(this.validators.get(tool.name), input, 'body');
      const result = await tool.run(input, this.toolCall(caller));
      const text = tool.text?.(result) ?? JSON.stringify(result);
      return { content: [{ type: 'text', text }], structuredContent: result };
    } catch (err) {
      if (caller.kind === 'engram')
        this.deps.access?.denied(
          err,
          caller.authenticated.principal,
          mcpRequest(caller.requestId, caller.origin.ip ?? '', caller.header, `tools/${tool.name}`),
        );
      if (!isExpected(err))
        this.deps.services.log.error(
          { err, tool: tool.name, requestId: caller.requestId },
          'MCP tool failed',
        );
      return toolError(tool.name, err);
    }
  }

  private toolCall(caller: CallerContext): ToolCall {
    return {
      caller,
      route: async (method, path, args) => (await this.routes.call(caller, method, path, args)).body as never,
      routeWithStatus: (method, path, args) => this.routes.call(caller, method, path, args) as never,
      charge: () => this.routes.charge(caller, false),
      services: this.deps.services,
    };
  }
}

/**
 * A tool's input schema as clients see it: a field with a default is optional to the caller (validation
 * fills it in), though TypeBox lists it as required.
 */
function listedSchema(schema: TObject): { type: 'object'; [k: string]: unknown } {
  const required = (schema.required ?? []).filter(
    (name) => (schema.properties[name] as { default?: unknown } | undefined)?.default === undefined,
  );
  const { required: _all, ...rest } = schema;
  return { ...rest, ...(required.length > 0 ? { required } : {}), type: 'object' };
}

/** A failed tool call: the problem detail as structured content and its detail as text. */
function toolError(tool: string, err: unknown): CallToolResult {
  const problem = problemOf(err, tool);
  return {
    isError: true,
    content: [{ type: 'text', text: `${problem.title} (${problem.status}): ${problem.detail}` }],
    structuredContent: problem,
  };
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

function mcpRequest(
  requestId: string,
  ip: string,
  header: (name: string) => string | undefined,
  target: string,
): ObservedRequest {
  return { requestId, ip, userAgent: header('user-agent'), via: 'mcp', target };
}
