import type { TObject, TSchema } from '@sinclair/typebox';
import type { CompiledRoute } from '../../compile.js';
import type { HttpMethod } from '../../route.js';
import type { AnyTool } from '../tool.js';
import { engramActionTools } from './engram-actions.js';
import { learnTools } from './engram-learn.js';
import { recallTools } from './engram-recall.js';
import { sessionTools } from './engram-sessions.js';
import { statusTools } from './engram-status.js';
import { layerTools } from './layer-memory.js';
import { packTools } from './packs.js';

/** The schemas of the route table, for tools whose input is a route's own. */
export interface RouteSchemas {
  body(method: HttpMethod, path: string): TObject;
  query(method: HttpMethod, path: string): TObject;
  param(method: HttpMethod, path: string, name: string): TSchema;
}

/** One file of tools. Adding a family (plur_packs_*) is one file and one line below. */
export type ToolFile = (routes: RouteSchemas) => readonly AnyTool[];

const TOOL_FILES: readonly ToolFile[] = [
  () => learnTools,
  () => recallTools,
  () => engramActionTools,
  () => sessionTools,
  () => statusTools,
  layerTools,
  packTools,
];

/** Every tool, checked once: unique names, and every route a tool uses exists. */
export function buildTools(compiled: readonly CompiledRoute[]): AnyTool[] {
  const byKey = new Map(compiled.map((c) => [`${c.route.method} ${c.route.path}`, c.route]));
  const routeOf = (method: HttpMethod, path: string) => {
    const route = byKey.get(`${method} ${path}`);
    if (!route) throw new Error(`MCP tool names no route: ${method} ${path}`);
    return route;
  };
  const objectSchema = (schema: TSchema | undefined, what: string): TObject => {
    if (!schema || schema.type !== 'object')
      throw new Error(`MCP tool input: ${what} is not an object schema`);
    return schema as TObject;
  };
  const schemas: RouteSchemas = {
    body: (method, path) => objectSchema(routeOf(method, path).schema.body, `${method} ${path} body`),
    query: (method, path) =>
      objectSchema(routeOf(method, path).schema.querystring, `${method} ${path} query`),
    param: (method, path, name) => {
      const params = objectSchema(routeOf(method, path).schema.params, `${method} ${path} params`);
      const schema = params.properties[name];
      if (!schema) throw new Error(`MCP tool input: ${method} ${path} has no parameter ${name}`);
      return schema;
    },
  };
  const tools = TOOL_FILES.flatMap((file) => file(schemas));
  const names = new Set<string>();
  for (const tool of tools) {
    if (names.has(tool.name)) throw new Error(`duplicate MCP tool ${tool.name}`);
    names.add(tool.name);
    for (const use of tool.uses) {
      const [method, path] = use.split(' ') as [HttpMethod, string];
      routeOf(method, path);
    }
  }
  return tools;
}
