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
  ScimUser,
  etagHeader,
  scimCall,
} from './scim-shapes.js';

/** /scim/v2/Users (RFC 7644 §3): a SCIM token of the organisation only; every change audited (scim). */
export function scimUserRoutes(services: Services) {
  const { scimUsers } = services;
  const tags = ['scim'];
  return [
    defineRoute({
      method: 'GET',
      path: '/scim/v2/Users',
      face: 'scim',
      auth: 'scim',
      summary: 'List users, with filter, startIndex, count, attributes and excludedAttributes.',
      tags,
      schema: { querystring: ListQuery, response: { 200: ListOf(ScimUser, 'ScimUserList') } },
      handler: async (input) => (await scimUsers.list(scimCall(input), input.query)) as never,
    }),
    defineRoute({
      method: 'POST',
      path: '/scim/v2/Users',
      face: 'scim',
      auth: 'scim',
      status: 201,
      errors: ['conflict'],
      summary: 'Provision a user (409 uniqueness when the userName is taken).',
      tags,
      schema: { body: ResourceBody('ScimUserRequest'), response: { 201: ScimUser } },
      handler: async (input) => {
        const created = await scimUsers.create(scimCall(input), input.body);
        const meta = created.meta as { location: string };
        return reply(201, created as never, { ...etagHeader(created), Location: meta.location });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/scim/v2/Users/:id',
      face: 'scim',
      auth: 'scim',
      summary: 'Read one user.',
      tags,
      schema: { params: ResourceId, querystring: ReadQuery, response: { 200: ScimUser } },
      handler: async (input) => {
        const user = await scimUsers.get(scimCall(input), input.params.id, input.query);
        return reply(200, user as never, etagHeader(user));
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/scim/v2/Users/:id',
      face: 'scim',
      auth: 'scim',
      errors: ['conflict', 'precondition_failed'],
      summary: 'Replace a user (If-Match honoured; active: false deactivates).',
      tags,
      schema: { params: ResourceId, body: ResourceBody('ScimUserRequest'), response: { 200: ScimUser } },
      handler: async (input) => {
        const user = await scimUsers.replace(scimCall(input), input.params.id, input.body);
        return reply(200, user as never, etagHeader(user));
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/scim/v2/Users/:id',
      face: 'scim',
      auth: 'scim',
      errors: ['conflict', 'precondition_failed'],
      summary: 'Change a user with PatchOp operations (as Okta and Entra ID send them).',
      tags,
      schema: { params: ResourceId, body: PatchBody, response: { 200: ScimUser } },
      handler: async (input) => {
        const operations = input.body.Operations as PatchOperation[];
        const user = await scimUsers.patch(scimCall(input), input.params.id, operations);
        return reply(200, user as never, etagHeader(user));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/scim/v2/Users/:id',
      face: 'scim',
      auth: 'scim',
      errors: ['precondition_failed'],
      summary: 'Deprovision a user: deactivated at once (keys stop, engrams stay), then 404 on SCIM.',
      tags,
      schema: { params: ResourceId, response: { 204: NoContent } },
      handler: async (input) => {
        await scimUsers.delete(scimCall(input), input.params.id);
        return rawReply(204, SCIM_MEDIA_TYPE, '');
      },
    }),
  ];
}
