import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { Nullable, Timestamp } from '../../schemas.js';
import { RecordId } from './admin-users.js';
import { RowsOf } from './shapes.js';

/** /api/v1/admin/api-keys: plur_sk_ keys of the organisation's users (admins; every call audited). */
const KeyInfo = Type.Object(
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
  },
  { title: 'EngramApiKey' },
);

export function adminApiKeyRoutes(services: Services) {
  const { plurKeys } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/api-keys',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'List the API keys of your organisation, newest first (never the key).',
      tags: ['admin'],
      schema: { response: { 200: RowsOf(KeyInfo) } },
      handler: async ({ principal, requestId }) => {
        const keys = await plurKeys.list({ caller: principal, requestId });
        return { rows: keys, total_count: keys.length };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/admin/api-keys',
      errors: ['forbidden', 'unprocessable'],
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Issue an API key (plur_sk_...) for a user. The key is shown only in this response.',
      tags: ['admin'],
      schema: {
        body: Type.Object({
          user_id: RecordId,
          label: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
          expires_at: Type.Optional(
            Nullable(Type.String({ format: 'date-time', description: 'In the future' })),
          ),
        }),
        response: {
          201: Type.Object({
            id: Type.String(),
            key: Type.String({ description: 'Shown only here; only its SHA-256 is stored.' }),
            user_id: Type.String(),
            label: Nullable(Type.String()),
            created_at: Timestamp(),
            expires_at: Nullable(Timestamp()),
          }),
        },
      },
      handler: async ({ body, principal, requestId }) => {
        const { key, record } = await plurKeys.issue(
          { caller: principal, requestId },
          { userId: body.user_id, label: body.label ?? null, expiresAt: body.expires_at ?? null },
        );
        return {
          id: record.id,
          key,
          user_id: record.user_id,
          label: record.label,
          created_at: record.created_at,
          expires_at: record.expires_at,
        };
      },
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
      handler: async ({ params, principal, requestId }) => {
        if (!(await plurKeys.revoke({ caller: principal, requestId }, params.id)))
          throw fail.notFound('API key not found');
        return { id: params.id, revoked: true as const };
      },
    }),
  ];
}
