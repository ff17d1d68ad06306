import type { Static, TObject } from '@sinclair/typebox';
import type { Services } from '../../services.js';
import type { HttpMethod } from '../route.js';
import type { CallerContext, RouteAnswer, RouteArgs } from './route-call.js';

/** Which credential a tool is offered to: engram keys get the PLUR tools, layer keys the memory tools. */
export type ToolAudience = 'engram' | 'layer';

/** What a tool's `run` may use: the REST routes it mirrors, as the caller, and the services (read-only use). */
export interface ToolCall {
  caller: CallerContext;
  /** Runs a REST route as the caller and returns the body it answers (see RouteCaller). */
  route<B = Record<string, unknown>>(method: HttpMethod, path: string, args?: RouteArgs): Promise<B>;
  /** The same, with the status (201 created vs 200 existing, say) and, for a raw reply, its media type and headers. */
  routeWithStatus<B = Record<string, unknown>>(
    method: HttpMethod,
    path: string,
    args?: RouteArgs,
  ): Promise<RouteAnswer<B>>;
  /** Charges one read to the caller's rate limit, for a tool that reads a service without a route. */
  charge(): Promise<void>;
  services: Services;
}

/**
 * One MCP tool. Its input is a TypeBox schema (JSON Schema, listed to clients and validated before `run`);
 * `run` maps the input onto the REST routes it mirrors (`uses`, checked at boot) and returns the structured
 * content; `text` renders it for clients that read text only (default: the JSON).
 */
export interface McpTool<S extends TObject = TObject> {
  name: string;
  title: string;
  /** For a model: what the tool is for and when to use it, in one or two sentences. */
  description: string;
  audience: ToolAudience;
  input: S;
  /** The routes `run` calls, as "METHOD /path". */
  uses: readonly `${HttpMethod} ${string}`[];
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean };
  run(input: Static<S>, call: ToolCall): Promise<Record<string, unknown>>;
  text?(result: Record<string, unknown>): string;
}

/** Identity function that gives a tool literal its input type. */
export function defineTool<S extends TObject>(tool: McpTool<S>): McpTool<S> {
  return tool;
}

/** A tool with its input type erased, for tables. */
export interface AnyTool extends Omit<McpTool, 'run'> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  run(input: any, call: ToolCall): Promise<Record<string, unknown>>;
}
