import type { Services } from '../../../services.js';
import type { PatchOperation } from '../../../scim/patch.js';
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
  ScimGroup,
  etagHeader,
  scimCall,
} from './scim-shapes.js';

/** /scim/v2/Groups (RFC 7644 §3), mapped onto mnemo groups and memberships; every change audited (scim). */
export function scimGroupRoutes(services: Services) {
  const { scimGroups } = services;
  const tags = ['scim'];
  return [
    defineRoute({
      method: 'GET',
      path: '/scim/v2/Groups',
      face: 'scim',
      auth: 'scim',
      summary:
        'List groups, with filter, startIndex, count, attributes and excludedAttributes (e.g. members).',
      tags,
      schema: { querystring: ListQuery, response: { 200: ListOf(ScimGroup, 'ScimGroupList') } },
      handler: async (input) => (await scimGroups.list(scimCall(input), input.query)) as never,
    }),
    defineRoute({
      method: 'POST',
      path: '/scim/v2/Groups',
      face: 'scim',
      auth: 'scim',
      status: 201,
      errors: ['conflict'],
      summary: 'Create a group with its members (409 uniqueness when a group of that name exists).',
      tags,
      schema: { body: ResourceBody('ScimGroupRequest'), response: { 201: ScimGroup } },
      handler: async (input) => {
        const created = await scimGroups.create(scimCall(input), input.body);
        const meta = created.meta as { location: string };
        return reply(201, created as never, { ...etagHeader(created), Location: meta.location });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/scim/v2/Groups/:id',
      face: 'scim',
      auth: 'scim',
      summary: 'Read one group with its members.',
      tags,
      schema: { params: ResourceId, querystring: ReadQuery, response: { 200: ScimGroup } },
      handler: async (input) => {
        const group = await scimGroups.get(scimCall(input), input.params.id, input.query);
        return reply(200, group as never, etagHeader(group));
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/scim/v2/Groups/:id',
      face: 'scim',
      auth: 'scim',
      errors: ['conflict', 'precondition_failed'],
      summary: 'Replace a group: displayName, externalId, members (If-Match honoured).',
      tags,
      schema: { params: ResourceId, body: ResourceBody('ScimGroupRequest'), response: { 200: ScimGroup } },
      handler: async (input) => {
        const group = await scimGroups.replace(scimCall(input), input.params.id, input.body);
        return reply(200, group as never, etagHeader(group));
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/scim/v2/Groups/:id',
      face: 'scim',
      auth: 'scim',
      errors: ['conflict', 'precondition_failed'],
      summary: 'Rename a group or add, remove and replace members with PatchOp operations.',
      tags,
      schema: { params: ResourceId, body: PatchBody, response: { 200: ScimGroup } },
      handler: async (input) => {
        const operations = input.body.Operations as PatchOperation[];
        const group = await scimGroups.patch(scimCall(input), input.params.id, operations);
        return reply(200, group as never, etagHeader(group));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/scim/v2/Groups/:id',
      face: 'scim',
      auth: 'scim',
      errors: ['conflict', 'precondition_failed'],
      summary: 'Delete a group: its memberships end at once; engrams in its scope stay.',
      tags,
      schema: { params: ResourceId, response: { 204: NoContent } },
      handler: async (input) => {
        await scimGroups.delete(scimCall(input), input.params.id);
        return rawReply(204, SCIM_MEDIA_TYPE, '');
      },
    }),
  ];
}
