import { Type } from '@sinclair/typebox';
import { ROLES } from '../../../auth/roles.js';
import type { Services } from '../../../services.js';
import { adminCall } from '../../request-context.js';
import { defineRoute, reply } from '../../route.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';
import { RecordId } from './admin-users.js';
import { RowsOf } from './shapes.js';

/** /api/v1/admin/groups and their members (organisation admins; every call audited). */
const SEGMENT = '[A-Za-z0-9._-]{1,64}';

const Group = Type.Object(
  {
    id: Type.String(),
    name: Type.String({ description: 'Path inside the organisation: team or team/sub' }),
    scope: Type.String({ description: 'group:<org>/<name>' }),
    parent_id: Nullable(Type.String()),
    created_at: Timestamp(),
  },
  { title: 'Group' },
);

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
      summary: 'List the groups of your organisation with their members.',
      tags: ['admin'],
      schema: {
        response: {
          200: RowsOf(
            Type.Object({
              ...Group.properties,
              members: Type.Array(Type.Object({ user_id: Type.String(), role: StringEnum(ROLES) })),
            }),
          ),
        },
      },
      handler: async ({ principal, ...request }) => {
        const rows = await groups.listGroups(adminCall(principal, request));
        return { rows, total_count: rows.length };
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
        groups.createGroup(adminCall(principal, request), {
          name: body.name,
          parentId: body.parent_id ?? null,
        }),
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
