import type { AccessObserver } from '../../auth/access-audit.js';
import type { Authenticated, RatePolicy } from '../../auth/principal.js';
import { MnemoError } from '../../errors.js';
import type { RequestOrigin } from '../../memory/audit/audit-log.js';
import { validate, type CompiledRoute } from '../compile.js';
import { isRawReply, isReply, type HttpMethod } from '../route.js';
import type { RateLimitCheck } from '../server.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The parts of a REST request a tool fills in. */
export interface RouteArgs {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
}

/**
 * A route's answer as a tool sees it: the status and the body the route would have serialized. For a raw
 * reply (a download) the body is the reply's text as is, a string or a Buffer of bytes, and `raw` carries its
 * media type and headers (Content-Disposition, say).
 */
export interface RouteAnswer<B = unknown> {
  status: number;
  body: B;
  raw?: { contentType: string; headers: Record<string, string> };
}

/**
 * Runs a REST route for an MCP tool: the tool never has a second implementation of what the route does.
 * The route's own validators check (and default) each part exactly as over HTTP, the call is charged to the
 * credential's rate limit as the HTTP request would be (the write bucket too for write routes), and the
 * route's handler runs with the tool caller's principal, so permissions, limits, events and audit are the
 * route's. `origin` says the call came through MCP.
 */
export class RouteCaller {
  private readonly byKey: Map<string, CompiledRoute>;

  constructor(
    compiled: readonly CompiledRoute[],
    private readonly rateLimiter: RateLimitCheck,
    /** Told about 429s of engram callers (audit, insights). */
    private readonly access?: AccessObserver,
  ) {
    this.byKey = new Map(compiled.map((c) => [`${c.route.method} ${c.route.path}`, c]));
  }

  /** Fails at boot, not at call time, when a tool names a route that does not exist. */
  require(method: HttpMethod, path: string): void {
    if (!this.byKey.has(`${method} ${path}`)) throw new Error(`MCP tool names no route: ${method} ${path}`);
  }

  async call<B = unknown>(
    caller: CallerContext,
    method: HttpMethod,
    path: string,
    args: RouteArgs = {},
  ): Promise<RouteAnswer<B>> {
    const compiled = this.byKey.get(`${method} ${path}`);
    if (!compiled) throw new Error(`MCP tool names no route: ${method} ${path}`);
    const { route } = compiled;
    if (route.auth !== caller.kind) throw new MnemoError('forbidden', 'This tool is not for this credential');
    await this.charge(caller, route.writeHeavy ?? WRITE_METHODS.has(method));
    const params = { ...(args.params ?? {}) };
    const query = { ...(args.query ?? {}) };
    const body =
      args.body === undefined ? (compiled.validateBody ? {} : undefined) : structuredClone(args.body);
    validate(compiled.validateBody, body, 'body');
    validate(compiled.validateParams, params, 'path');
    validate(compiled.validateQuery, query, 'query');
    const result = await route.handler({
      params,
      query,
      body,
      principal: caller.authenticated.principal,
      requestId: caller.requestId,
      header: (name) => caller.header(name),
      ip: caller.origin.ip ?? '',
      origin: caller.origin,
      files: {},
    });
    if (isRawReply(result))
      return {
        status: result.status,
        body: result.text as B,
        raw: { contentType: result.contentType, headers: { ...(result.headers ?? {}) } },
      };
    if (isReply(result)) return { status: result.status, body: result.body as B };
    return { status: route.status ?? 200, body: result as B };
  }

  /** Charges one request to the caller's rate limit (and its write bucket when `writeHeavy`); 429 past it. */
  async charge(caller: CallerContext, writeHeavy: boolean): Promise<void> {
    const policy: RatePolicy | undefined = caller.authenticated.rate;
    if (!policy) return;
    const decision = await this.rateLimiter.check(policy, writeHeavy);
    if (!decision.allowed) {
      if (caller.kind === 'engram')
        this.access?.rateLimited(caller.authenticated.principal, decision.limit, {
          requestId: caller.requestId,
          ip: caller.origin.ip ?? '',
          userAgent: caller.origin.userAgent,
          via: 'mcp',
          target: 'POST /mcp',
        });
      throw new MnemoError('rate_limited', `Rate limit of ${decision.limit} requests per minute exceeded`, {
        headers: { 'Retry-After': String(decision.retryAfterSeconds) },
      });
    }
  }
}

/** Who calls a tool: the authenticated credential of the MCP request and its transport details. */
export interface CallerContext {
  kind: 'engram' | 'layer';
  authenticated: Authenticated<unknown>;
  requestId: string;
  origin: RequestOrigin;
  header: (name: string) => string | undefined;
}
