import { Type } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { buildOpenApi } from '../openapi.js';
import { defineRoute, rawReply, type AnyRoute, type Face } from '../route.js';

/** Where a document is served and which routes it describes (default: /openapi.* with every route). */
export interface OpenApiMount {
  basePath: string;
  face: Face;
  /** What the document covers, in its summaries. */
  covers: string;
  filter: (route: AnyRoute) => boolean;
}

const ALL: OpenApiMount = { basePath: '', face: 'layer', covers: 'every route', filter: () => true };

/** Serves the OpenAPI document of `routes` (read when first asked, so it covers routes added later). */
export function openApiRoutes(routes: () => readonly AnyRoute[], mount: OpenApiMount = ALL) {
  let document: Record<string, unknown> | undefined;
  const doc = (): Record<string, unknown> => (document ??= buildOpenApi(routes(), mount.filter));
  return [
    defineRoute({
      method: 'GET',
      path: `${mount.basePath}/openapi.json`,
      face: mount.face,
      auth: 'none',
      summary: `OpenAPI 3.1 document of ${mount.covers} (JSON).`,
      tags: ['meta'],
      schema: { response: { 200: Type.Unknown() } },
      handler: async () => rawReply(200, 'application/json', JSON.stringify(doc())),
    }),
    defineRoute({
      method: 'GET',
      path: `${mount.basePath}/openapi.yaml`,
      face: mount.face,
      auth: 'none',
      summary: `OpenAPI 3.1 document of ${mount.covers} (YAML).`,
      tags: ['meta'],
      schema: { response: { 200: Type.Unknown() } },
      handler: async () => rawReply(200, 'application/yaml', stringify(doc())),
    }),
  ];
}
