import { Type } from '@sinclair/typebox';
import { ROLES } from '../../../auth/roles.js';
import type { Services } from '../../../services.js';
import { adminCall } from '../../request-context.js';
import { defineRoute, reply } from '../../route.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';
import { RecordId } from './admin-users.js';
import { PageQuery, pageOf } from './paging.js';
import { RowsOf } from './shapes.js';

/** /api/v1/admin/groups and their members (organisation admins; every call audited). */
const SEGMENT = '[A-Za-z0-9._-]{1,64}';

const Group = Type.Object(
  {
    id: Type.String(),
    name: Type.String({ description: 'Path inside the organisation: team or team/sub' }),
    scope: Type.String({ description: 'group:<org>/<name>' }),
    parent_id: Nullable(Type.String()),
    description: Nullable(Type.String()),
    created_at: Timestamp(),
  },
  { title: 'Group' },
);

const Member = Type.Object({ user_id: Type.String(), role: StringEnum(ROLES) }, { title: 'GroupMember' });
const GroupWithMembers = Type.Object({ ...Group.properties, members: Type.Array(Member) });
const GroupParams = Type.Object({ id: RecordId });
const groupWire = <G extends { description?: string | null }>(group: G) => ({
  ...group,
  description: group.description ?? null,
});

const Membership = Type.Object(
  { group_id: Type.String(), user_id: Type.String(), role: StringEnum(ROLES) },
  { title: 'Membership' },
);

export function adminGroupRoutes(services: Services) {
  const { groups } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/groups',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'List the groups of your organisation with their members (by path; limit/offset pages).',
      tags: ['admin'],
      schema: { querystring: PageQuery, response: { 200: RowsOf(GroupWithMembers) } },
      handler: async ({ query, principal, ...request }) => {
        const rows = await groups.listGroups(adminCall(principal, request));
        return pageOf(rows.map(groupWire), query);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/admin/groups',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary:
        'Create a group; with parent_id it is created under that group (scope group:<org>/<parent>/<name>).',
      tags: ['admin'],
      schema: {
        body: Type.Object({
          name: Type.String({
            pattern: `^(group:${SEGMENT}/)?${SEGMENT}(/${SEGMENT}){0,7}$`,
            description: 'team, team/sub, or group:<org>/team',
          }),
          parent_id: Type.Optional(Nullable(RecordId)),
        }),
        response: { 201: Group },
      },
      handler: async ({ body, principal, ...request }) =>
        groupWire(
          await groups.createGroup(adminCall(principal, request), {
            name: body.name,
            parentId: body.parent_id ?? null,
          }),
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/groups/:id',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'Read one group with its members.',
      tags: ['admin'],
      schema: { params: GroupParams, response: { 200: GroupWithMembers } },
      handler: async ({ params, principal, ...request }) =>
        groupWire(await groups.readGroup(adminCall(principal, request), params.id)),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/v1/admin/groups/:id',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: "Change a group's description (its name and scope stay: engrams live under the scope).",
      tags: ['admin'],
      schema: {
        params: GroupParams,
        body: Type.Object(
          { description: Nullable(Type.String({ maxLength: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Group },
      },
      handler: async ({ params, body, principal, ...request }) =>
        groupWire(
          await groups.updateGroup(adminCall(principal, request), params.id, {
            description: body.description,
          }),
        ),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/admin/groups/:id',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      summary:
        'Delete an empty group (409 while it has members or subgroups); its engrams stay in its scope.',
      tags: ['admin'],
      schema: {
        params: GroupParams,
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }) },
      },
      handler: async ({ params, principal, ...request }) => {
        await groups.deleteGroup(adminCall(principal, request), params.id);
        return { id: params.id, deleted: true as const };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/groups/:id/members',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'List the members of a group (by user id; limit/offset pages).',
      tags: ['admin'],
      schema: { params: GroupParams, querystring: PageQuery, response: { 200: RowsOf(Member) } },
      handler: async ({ params, query, principal, ...request }) =>
        pageOf(await groups.listMembers(adminCall(principal, request), params.id), query),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/admin/groups/:id/members',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Add a member with a role (201), or change the role of a member (200).',
      tags: ['admin'],
      schema: {
        params: Type.Object({ id: RecordId }),
        body: Type.Object({ user_id: RecordId, role: StringEnum(ROLES) }),
        response: { 201: Membership, 200: Membership },
      },
      handler: async ({ params, body, principal, ...request }) => {
        const added = await groups.addMember(
          adminCall(principal, request),
          params.id,
          body.user_id,
          body.role,
        );
        return reply(added ? 201 : 200, { group_id: params.id, user_id: body.user_id, role: body.role });
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/admin/groups/:id/members/:user_id',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'Remove a member from a group.',
      tags: ['admin'],
      schema: {
        params: Type.Object({ id: RecordId, user_id: RecordId }),
        response: {
          200: Type.Object({ group_id: Type.String(), user_id: Type.String(), removed: Type.Literal(true) }),
        },
      },
      handler: async ({ params, principal, ...request }) => {
        await groups.removeMember(adminCall(principal, request), params.id, params.user_id);
        return { group_id: params.id, user_id: params.user_id, removed: true as const };
      },
    }),
  ];
}
