import { Type } from '@sinclair/typebox';
import { ROLES } from '../../../auth/roles.js';
import { defineRoute } from '../../route.js';
import { StringEnum } from '../../schemas.js';

/** GET /api/v1/me (plur.md §1.2, §1.3): who the credential is and which scopes it reads. */
export function meRoutes() {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/me',
      face: 'engram',
      auth: 'engram',
      summary: 'Describe the caller: username, organisation, role and readable scopes.',
      description: 'Sub-scopes of a listed group scope are readable too.',
      tags: ['identity'],
      schema: {
        response: {
          200: Type.Object({
            username: Type.String(),
            org_id: Type.String(),
            role: StringEnum(ROLES),
            scopes: Type.Array(Type.String()),
          }),
        },
      },
      handler: async ({ principal }) => ({
        username: principal.username,
        org_id: principal.org,
        role: principal.role,
        scopes: [...principal.access.readableScopes],
      }),
    }),
  ];
}
