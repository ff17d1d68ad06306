import { Type } from '@sinclair/typebox';
import { MAX_KEYS_PER_USER } from '../../../auth/own-keys.js';
import { fail } from '../../../errors.js';
import type { Services } from '../../../services.js';
import { adminCall } from '../../request-context.js';
import { defineRoute } from '../../route.js';
import { issuedKey, IssuedKey, KeyInfo, KeyRequest } from './admin-api-keys.js';
import { RecordId } from './admin-users.js';
import { RowsOf } from './shapes.js';

/** /api/v1/me/api-keys: a user's own plur_sk_ keys (self-service; every call audited). */
export function meApiKeyRoutes(services: Services) {
  const { ownKeys } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/me/api-keys',
      face: 'engram',
      auth: 'engram',
      summary: 'List your own API keys, newest first (never the key).',
      tags: ['identity'],
      schema: { response: { 200: RowsOf(KeyInfo) } },
      handler: async ({ principal, ...request }) => {
        const keys = await ownKeys.list(adminCall(principal, request));
        return { rows: keys, total_count: keys.length };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/me/api-keys',
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Mint an API key for yourself; it opens your personal scope. The key is shown only here.',
      description: `Made with a key an admin issued for you, that key is spent (revoked) first: it opens your personal scope only through this one exchange. 409 when you already hold ${MAX_KEYS_PER_USER} active keys.`,
      tags: ['identity'],
      schema: { body: Type.Object(KeyRequest), response: { 201: IssuedKey } },
      handler: async ({ body, principal, ...request }) =>
        issuedKey(
          await ownKeys.mint(adminCall(principal, request), {
            label: body.label ?? null,
            expiresAt: body.expires_at ?? null,
          }),
        ),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/me/api-keys/:id',
      face: 'engram',
      auth: 'engram',
      summary: 'Revoke one of your own API keys; it stops working on every instance at once.',
      tags: ['identity'],
      schema: {
        params: Type.Object({ id: RecordId }),
        response: { 200: Type.Object({ id: Type.String(), revoked: Type.Literal(true) }) },
      },
      handler: async ({ params, principal, ...request }) => {
        if (!(await ownKeys.revoke(adminCall(principal, request), params.id)))
          throw fail.notFound('API key not found');
        return { id: params.id, revoked: true as const };
      },
    }),
  ];
}
