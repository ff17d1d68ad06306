import type { TSchema } from '@sinclair/typebox';
import type { Json } from '../../../scim/filter-eval.js';
import type { ListQuery as ScimListQuery } from '../../../scim/list.js';
import type { PatchOperation } from '../../../scim/patch.js';
import type { ScimCall } from '../../../scim/scim-users.js';
import type { ErrorCode } from '../../../errors.js';
import { SCIM_MEDIA_TYPE } from '../../schemas.js';
import { defineRoute, rawReply, reply } from '../../route.js';
import {
  ListOf,
  ListQuery,
  NoContent,
  PatchBody,
  ReadQuery,
  ResourceBody,
  ResourceId,
  etagHeader,
  scimCall,
} from './scim-shapes.js';

/** What a SCIM resource type's service offers (RFC 7644 §3): src/scim implements it for Users and Groups. */
export interface ScimResourceService {
  list(call: ScimCall, query: ScimListQuery): Promise<Json>;
  get(call: ScimCall, id: string, query: ScimListQuery): Promise<Json>;
  create(call: ScimCall, body: unknown): Promise<Json>;
  replace(call: ScimCall, id: string, body: unknown): Promise<Json>;
  patch(call: ScimCall, id: string, operations: PatchOperation[]): Promise<Json>;
  delete(call: ScimCall, id: string): Promise<void>;
}

export interface ScimResourceSpec {
  /** The endpoint name: `Users` or `Groups`. */
  endpoint: string;
  /** The resource's response schema, and its OpenAPI titles. */
  resource: TSchema;
  listTitle: string;
  requestTitle: string;
  service: ScimResourceService;
  /** One line per operation, for OpenAPI. */
  summaries: { list: string; create: string; get: string; replace: string; patch: string; delete: string };
  /** What DELETE can answer besides 404 (a group delete may conflict). */
  deleteErrors: ErrorCode[];
}

/**
 * The six routes of one SCIM resource type: a SCIM token of the organisation only, ETags from meta.version,
 * If-Match honoured by the service, every change audited with channel `scim`.
 */
export function scimResourceRoutes(spec: ScimResourceSpec) {
  const { service, resource, summaries } = spec;
  const collection = `/scim/v2/${spec.endpoint}`;
  const item = `${collection}/:id`;
  const common: { face: 'scim'; auth: 'scim'; tags: string[] } = {
    face: 'scim',
    auth: 'scim',
    tags: ['scim'],
  };
  const withEtag = (found: Json) => reply(200, found as never, etagHeader(found));
  return [
    defineRoute({
      ...common,
      method: 'GET',
      path: collection,
      summary: summaries.list,
      schema: { querystring: ListQuery, response: { 200: ListOf(resource, spec.listTitle) } },
      handler: async (input) => (await service.list(scimCall(input), input.query)) as never,
    }),
    defineRoute({
      ...common,
      method: 'POST',
      path: collection,
      status: 201,
      errors: ['conflict'],
      summary: summaries.create,
      schema: { body: ResourceBody(spec.requestTitle), response: { 201: resource } },
      handler: async (input) => {
        const created = await service.create(scimCall(input), input.body);
        const meta = created.meta as { location: string };
        return reply(201, created as never, { ...etagHeader(created), Location: meta.location });
      },
    }),
    defineRoute({
      ...common,
      method: 'GET',
      path: item,
      summary: summaries.get,
      schema: { params: ResourceId, querystring: ReadQuery, response: { 200: resource } },
      handler: async (input) => withEtag(await service.get(scimCall(input), input.params.id, input.query)),
    }),
    defineRoute({
      ...common,
      method: 'PUT',
      path: item,
      errors: ['conflict', 'precondition_failed'],
      summary: summaries.replace,
      schema: { params: ResourceId, body: ResourceBody(spec.requestTitle), response: { 200: resource } },
      handler: async (input) => withEtag(await service.replace(scimCall(input), input.params.id, input.body)),
    }),
    defineRoute({
      ...common,
      method: 'PATCH',
      path: item,
      errors: ['conflict', 'precondition_failed'],
      summary: summaries.patch,
      schema: { params: ResourceId, body: PatchBody, response: { 200: resource } },
      handler: async (input) => {
        const operations = input.body.Operations as PatchOperation[];
        return withEtag(await service.patch(scimCall(input), input.params.id, operations));
      },
    }),
    defineRoute({
      ...common,
      method: 'DELETE',
      path: item,
      errors: spec.deleteErrors,
      summary: summaries.delete,
      schema: { params: ResourceId, response: { 204: NoContent } },
      handler: async (input) => {
        await service.delete(scimCall(input), input.params.id);
        return rawReply(204, SCIM_MEDIA_TYPE, '');
      },
    }),
  ];
}
