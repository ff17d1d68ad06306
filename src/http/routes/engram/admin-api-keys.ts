import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { PlurKeyRecord } from '../../../auth/plur-keys.js';
import type { Services } from '../../../services.js';
import { adminCall } from '../../request-context.js';
import { defineRoute } from '../../route.js';
import { Nullable, Timestamp } from '../../schemas.js';
import { RecordId } from './admin-users.js';
import { PageQuery, pageOf } from './paging.js';
import { RowsOf } from './shapes.js';

/** /api/v1/admin/api-keys: plur_sk_ keys of the organisation's users (admins; every call audited). */
export const KeyInfo = Type.Object(
  {
    id: Type.String(),
    user_id: Type.String(),
    label: Nullable(Type.String()),
    key_prefix: Type.String(),
    created_at: Timestamp(),
    expires_at: Nullable(Timestamp()),
    last_used_at: Nullable(Timestamp()),
    revoked_at: Nullable(Timestamp()),
    active: Type.Boolean(),
    personal: Type.Boolean({
      description:
        "Whether the key opens its user's personal scope: only keys the user minted (/api/v1/me/api-keys) do, never one an admin issued for someone else.",
    }),
  },
  { title: 'EngramApiKey' },
);

/** The body of a key-issuing request (admin or self-service). */
export const KeyRequest = {
  label: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  expires_at: Type.Optional(Nullable(Type.String({ format: 'date-time', description: 'In the future' }))),
};

/** What issuing a key answers: the key itself, shown only here. */
export const IssuedKey = Type.Object({
  id: Type.String(),
  key: Type.String({ description: 'Shown only here; only its SHA-256 is stored.' }),
  user_id: Type.String(),
  label: Nullable(Type.String()),
  created_at: Timestamp(),
  expires_at: Nullable(Timestamp()),
  personal: Type.Boolean(),
});

export const issuedKey = ({ key, record }: { key: string; record: PlurKeyRecord }) => ({
  id: record.id,
  key,
  user_id: record.user_id,
  label: record.label,
  created_at: record.created_at,
  expires_at: record.expires_at,
  personal: record.personal,
});

export function adminApiKeyRoutes(services: Services) {
  const { plurKeys } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/api-keys',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'List the API keys of your organisation, newest first (never the key; limit/offset pages).',
      tags: ['admin'],
      schema: { querystring: PageQuery, response: { 200: RowsOf(KeyInfo) } },
      handler: async ({ query, principal, ...request }) =>
        pageOf(await plurKeys.list(adminCall(principal, request)), query),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/admin/api-keys',
      errors: ['forbidden', 'unprocessable'],
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Issue an API key (plur_sk_...) for a user. The key is shown only in this response.',
      description:
        "A key for another user does not open that user's personal scope (user:<org>:<name>): personal scopes are never shared, not even with admins. The user mints personal keys with POST /api/v1/me/api-keys (which spends an admin-issued key used for it).",
      tags: ['admin'],
      schema: {
        body: Type.Object({ user_id: RecordId, ...KeyRequest }),
        response: { 201: IssuedKey },
      },
      handler: async ({ body, principal, ...request }) =>
        issuedKey(
          await plurKeys.issue(adminCall(principal, request), {
            userId: body.user_id,
            label: body.label ?? null,
            expiresAt: body.expires_at ?? null,
          }),
        ),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/admin/api-keys/:id',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      summary: 'Revoke an API key; it stops working on every instance at once.',
      tags: ['admin'],
      schema: {
        params: Type.Object({ id: RecordId }),
        response: { 200: Type.Object({ id: Type.String(), revoked: Type.Literal(true) }) },
      },
      handler: async ({ params, principal, ...request }) => {
        if (!(await plurKeys.revoke(adminCall(principal, request), params.id)))
          throw fail.notFound('API key not found');
        return { id: params.id, revoked: true as const };
      },
    }),
  ];
}
