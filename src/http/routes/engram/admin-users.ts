import { Type } from '@sinclair/typebox';
import type { UserRecord } from '../../../auth/users.js';
import { ROLES } from '../../../auth/roles.js';
import type { Services } from '../../../services.js';
import { adminCall } from '../../request-context.js';
import { defineRoute } from '../../route.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';
import { PageQuery, pageOf } from './paging.js';
import { RowsOf } from './shapes.js';

/** /api/v1/admin/users (organisation admins; every call audited). */
export const RecordId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' });

const User = Type.Object(
  {
    id: Type.String(),
    username: Type.String(),
    email: Nullable(Type.String()),
    display_name: Nullable(Type.String()),
    role: StringEnum(ROLES),
    active: Type.Boolean(),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { title: 'User' },
);

const Username = Type.String({
  pattern: '^[A-Za-z0-9._-]{1,64}$',
  description: '1-64 characters of [A-Za-z0-9._-]; names the personal scope user:<org>:<username>',
});

const Email = Nullable(Type.String({ format: 'email', maxLength: 254 }));
const DisplayName = Nullable(Type.String({ minLength: 1, maxLength: 200 }));

const userWire = (u: UserRecord) => ({ ...u });

export function adminUserRoutes(services: Services) {
  const { users } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/users',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'List the users of your organisation (oldest first; limit/offset pages).',
      tags: ['admin'],
      schema: { querystring: PageQuery, response: { 200: RowsOf(User) } },
      handler: async ({ query, principal, ...request }) => {
        const rows = await users.listUsers(adminCall(principal, request));
        return pageOf(rows.map(userWire), query);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/admin/users',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Provision a user (409 when the username is taken).',
      tags: ['admin'],
      schema: {
        body: Type.Object({
          username: Username,
          email: Type.Optional(Email),
          display_name: Type.Optional(DisplayName),
          role: StringEnum(ROLES),
        }),
        response: { 201: User },
      },
      handler: async ({ body, principal, ...request }) =>
        userWire(
          await users.createUser(adminCall(principal, request), {
            username: body.username,
            email: body.email ?? null,
            display_name: body.display_name ?? null,
            role: body.role,
          }),
        ),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/v1/admin/users/:id',
      errors: ['forbidden', 'conflict', 'unprocessable'],
      face: 'engram',
      auth: 'engram',
      summary:
        "Change a user's username, role, email, display name, or deactivate them (their keys stop at once).",
      tags: ['admin'],
      schema: {
        params: Type.Object({ id: RecordId }),
        body: Type.Object(
          {
            username: Type.Optional(Username),
            role: Type.Optional(StringEnum(ROLES)),
            active: Type.Optional(Type.Boolean()),
            email: Type.Optional(Email),
            display_name: Type.Optional(DisplayName),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: User },
      },
      handler: async ({ params, body, principal, ...request }) =>
        userWire(await users.updateUser(adminCall(principal, request), params.id, body)),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/users/:id',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'Read one user of your organisation.',
      tags: ['admin'],
      schema: { params: Type.Object({ id: RecordId }), response: { 200: User } },
      handler: async ({ params, principal, ...request }) =>
        userWire(await users.readUser(adminCall(principal, request), params.id)),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/admin/users/:id',
      errors: ['forbidden', 'unprocessable'],
      face: 'engram',
      auth: 'engram',
      summary:
        'Deactivate a user: their keys and sessions stop at once on every instance; their engrams stay.',
      tags: ['admin'],
      schema: { params: Type.Object({ id: RecordId }), response: { 200: User } },
      handler: async ({ params, principal, ...request }) =>
        userWire(await users.deactivateUser(adminCall(principal, request), params.id)),
    }),
  ];
}
