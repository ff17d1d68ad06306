import { Type } from '@sinclair/typebox';
import { ENGRAM_CREDENTIAL_KINDS } from '../../../auth/principal.js';
import { ROLES } from '../../../auth/roles.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { StringEnum } from '../../schemas.js';
import { ScopeMetadataShape } from './admin-scopes.js';

/** GET /api/v1/me (plur.md §1.2, §1.3): who the credential is, which scopes it reads, and what they are. */
export function meRoutes(services: Services) {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/me',
      face: 'engram',
      auth: 'engram',
      summary: 'Describe the caller: username, organisation, role and readable scopes.',
      description:
        'Sub-scopes of a listed group scope are readable too. scope_metadata describes the scopes you read ' +
        'that carry metadata (set by admins at /api/v1/admin/scopes).',
      tags: ['identity'],
      schema: {
        response: {
          200: Type.Object({
            username: Type.String(),
            org_id: Type.String(),
            role: StringEnum(ROLES),
            scopes: Type.Array(Type.String()),
            scope_metadata: Type.Array(ScopeMetadataShape),
            credential: StringEnum(ENGRAM_CREDENTIAL_KINDS, {
              description:
                'Which credential made the call: api_key (plur_sk_), admin_key, session (single sign-on) or idp_token (an access token of the identity provider).',
            }),
          }),
        },
      },
      handler: async ({ principal }) => ({
        username: principal.username,
        org_id: principal.org,
        role: principal.role,
        scopes: [...principal.access.readableScopes],
        scope_metadata: await services.scopeMetadata.readableBy(principal),
        credential: principal.credential,
      }),
    }),
  ];
}
