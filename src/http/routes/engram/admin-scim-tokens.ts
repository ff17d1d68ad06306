import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { Nullable, Timestamp } from '../../schemas.js';
import { RecordId } from './admin-users.js';
import { RowsOf } from './shapes.js';

/** /api/v1/admin/scim/tokens: the SCIM bearer tokens of the organisation (admins; every call audited). */
const TokenInfo = Type.Object(
  {
    id: Type.String(),
    label: Nullable(Type.String()),
    token_prefix: Type.String(),
    created_at: Timestamp(),
    created_by: Type.String(),
    last_used_at: Nullable(Timestamp()),
    revoked_at: Nullable(Timestamp()),
    active: Type.Boolean(),
  },
  { title: 'ScimToken' },
);

const IssuedToken = Type.Object({
  id: Type.String(),
  token: Type.String({ description: 'Shown only here; only its SHA-256 is stored.' }),
  label: Nullable(Type.String()),
  created_at: Timestamp(),
  scim_base_path: Type.String({ description: 'Where the token works: /scim/v2 (and nowhere else)' }),
});

export function adminScimTokenRoutes(services: Services) {
  const { scimTokens } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/scim/tokens',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'List the SCIM tokens of your organisation, newest first (never the token).',
      tags: ['admin'],
      schema: { response: { 200: RowsOf(TokenInfo) } },
      handler: async ({ principal, requestId }) => {
        const rows = await scimTokens.list({ caller: principal, requestId });
        return { rows, total_count: rows.length };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/admin/scim/tokens',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Issue a SCIM bearer token (plur_scim_...) for an IdP. Shown only in this response.',
      description:
        "The token works on /scim/v2 of your organisation only: it provisions users and groups and reads no memory; no other credential works on /scim/v2. Paste it into the IdP's provisioning settings.",
      tags: ['admin'],
      schema: {
        body: Type.Object({ label: Type.Optional(Nullable(Type.String({ maxLength: 200 }))) }),
        response: { 201: IssuedToken },
      },
      handler: async ({ body, principal, requestId }) => {
        const { token, record } = await scimTokens.issue(
          { caller: principal, requestId },
          body.label ?? null,
        );
        return {
          id: record.id,
          token,
          label: record.label,
          created_at: record.created_at,
          scim_base_path: '/scim/v2',
        };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/admin/scim/tokens/:id',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      summary: 'Revoke a SCIM token; it stops working on every instance at once.',
      tags: ['admin'],
      schema: {
        params: Type.Object({ id: RecordId }),
        response: { 200: Type.Object({ id: Type.String(), revoked: Type.Literal(true) }) },
      },
      handler: async ({ params, principal, requestId }) => {
        if (!(await scimTokens.revoke({ caller: principal, requestId }, params.id)))
          throw fail.notFound('SCIM token not found');
        return { id: params.id, revoked: true as const };
      },
    }),
  ];
}
