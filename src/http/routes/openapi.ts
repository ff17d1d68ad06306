import { Type } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { buildOpenApi } from '../openapi.js';
import { defineRoute, rawReply, type AnyRoute } from '../route.js';

/** Serves the OpenAPI document of `routes` (read when first asked, so it covers routes added later). */
export function openApiRoutes(routes: () => readonly AnyRoute[]) {
  let document: Record<string, unknown> | undefined;
  const doc = (): Record<string, unknown> => (document ??= buildOpenApi(routes()));
  return [
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      face: 'layer',
      auth: 'none',
      summary: 'OpenAPI 3.1 document of every route (JSON).',
      tags: ['meta'],
      schema: { response: { 200: Type.Unknown() } },
      handler: async () => rawReply(200, 'application/json', JSON.stringify(doc())),
    }),
    defineRoute({
      method: 'GET',
      path: '/openapi.yaml',
      face: 'layer',
      auth: 'none',
      summary: 'OpenAPI 3.1 document of every route (YAML).',
      tags: ['meta'],
      schema: { response: { 200: Type.Unknown() } },
      handler: async () => rawReply(200, 'application/yaml', stringify(doc())),
    }),
  ];
}
