import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { Services } from '../../../services.js';
import { WORKSPACE_ID_PATTERN } from '../../../workspace.js';
import { defineRoute } from '../../route.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';

/** Layer-API key administration (admin key only). Contract: plyra seed "Admin endpoints", reference §2.2. */
const KeyFields = {
  key_id: Type.String(),
  workspace_id: Type.String(),
  label: Nullable(Type.String()),
  env: StringEnum(['live', 'test']),
  key_prefix: Type.String(),
  rate_limit_rpm: Nullable(Type.Integer()),
  created_at: Timestamp(),
  is_active: Type.Boolean(),
};

/** A listed key: the seed calls the last use `last_used`, the reference server `last_used_at`; both are sent. */
const KeyInfo = Type.Object(
  {
    ...KeyFields,
    last_used: Nullable(Timestamp()),
    last_used_at: Nullable(Timestamp()),
  },
  { title: 'LayerKey' },
);

const CreatedKey = Type.Object(
  {
    key: Type.String({
      description: 'The API key. Shown only in this response; only its SHA-256 is stored.',
    }),
    ...KeyFields,
    last_used_at: Type.Null(),
  },
  { title: 'CreatedLayerKey' },
);

const KeyIdParam = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });

export function adminKeyRoutes(services: Services) {
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/keys',
      face: 'layer',
      auth: 'admin',
      summary: 'Create a layer-API key bound to a workspace.',
      tags: ['admin'],
      schema: {
        body: Type.Object({
          workspace_id: Type.String({
            pattern: WORKSPACE_ID_PATTERN,
            description: '1-64 characters of [A-Za-z0-9._-]',
          }),
          label: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
          env: Type.Optional(StringEnum(['live', 'test'], { default: 'live' })),
          rate_limit_rpm: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 }))),
        }),
        response: { 200: CreatedKey },
      },
      handler: async ({ body }) => {
        const { key, record } = await services.layerKeys.create({
          workspaceId: body.workspace_id,
          label: body.label ?? null,
          env: body.env ?? 'live',
          rateLimitRpm: body.rate_limit_rpm ?? null,
        });
        return { key, ...record, last_used_at: null };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/keys/:workspace_id',
      face: 'layer',
      auth: 'admin',
      summary: "List a workspace's keys, newest first (never the key or its hash).",
      tags: ['admin'],
      schema: {
        params: Type.Object({ workspace_id: Type.String({ pattern: WORKSPACE_ID_PATTERN }) }),
        response: { 200: Type.Array(KeyInfo) },
      },
      handler: async ({ params }) => {
        const records = await services.layerKeys.list(params.workspace_id);
        return records.map((r) => ({ ...r, last_used: r.last_used_at }));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/keys/:key_id',
      errors: ['conflict'],
      face: 'layer',
      auth: 'admin',
      summary: 'Revoke a key. Instant on every instance.',
      tags: ['admin'],
      schema: {
        params: Type.Object({ key_id: KeyIdParam }),
        response: { 200: Type.Object({ revoked: Type.Boolean(), key_id: Type.String() }) },
      },
      handler: async ({ params }) => {
        if (!(await services.layerKeys.revoke(params.key_id))) throw fail.notFound('API key not found');
        return { revoked: true, key_id: params.key_id };
      },
    }),
  ];
}
