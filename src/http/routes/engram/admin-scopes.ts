import { Type } from '@sinclair/typebox';
import { INJECTION_POLICIES, SENSITIVITY_CATEGORIES } from '../../../auth/scope-metadata.js';
import type { Services } from '../../../services.js';
import { adminCall } from '../../request-context.js';
import { defineRoute, reply } from '../../route.js';
import { StringEnum, Timestamp } from '../../schemas.js';
import { NoControl, RowsOf, ScopeName } from './shapes.js';

/**
 * /api/v1/admin/scopes: the metadata of the organisation's scopes, which /api/v1/me shows as
 * `scope_metadata` for the scopes the caller reads (plur.md §1.2; limits as the PLUR client checks them:
 * description ≤ 500 characters, covers ≤ 32 entries of ≤ 120, no control characters). Organisation admins
 * only; every call audited. The scope in the path is percent-encoded (group%3Aacme%2Fplatform).
 */
const Sensitivity = Type.Object(
  {
    forbid: Type.Array(StringEnum(SENSITIVITY_CATEGORIES), {
      uniqueItems: true,
      default: [...SENSITIVITY_CATEGORIES],
      description: 'Sensitive content the client must not write here (default both).',
    }),
    allow: Type.Array(Type.String({ minLength: 1, maxLength: 120, pattern: NoControl }), {
      maxItems: 32,
      default: [],
      description: 'Detector patterns or categories allowed anyway.',
    }),
  },
  { additionalProperties: false },
);

const metadataFields = {
  description: Type.String({ minLength: 1, maxLength: 500, pattern: NoControl }),
  covers: Type.Array(Type.String({ minLength: 1, maxLength: 120, pattern: NoControl }), {
    maxItems: 32,
    default: [],
    description: 'Topics this scope is the home for; the PLUR client routes writes by them.',
  }),
  sensitivity: Type.Optional(Sensitivity),
  injection_policy: Type.Optional(StringEnum(INJECTION_POLICIES)),
  owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NoControl })),
};

/** One entry of /me's scope_metadata. */
export const ScopeMetadataShape = Type.Object({ scope: Type.String(), ...metadataFields });

const ScopeMetadataRecord = Type.Object({
  ...ScopeMetadataShape.properties,
  updated_at: Timestamp(),
  updated_by: Type.Object({ type: Type.String(), id: Type.String() }),
});

const ScopeParams = Type.Object({ scope: ScopeName });

export function adminScopeRoutes(services: Services) {
  const { scopeMetadata } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/scopes',
      face: 'engram',
      auth: 'engram',
      summary: 'List the scopes of your organisation that carry metadata.',
      tags: ['admin'],
      schema: { response: { 200: RowsOf(ScopeMetadataRecord) } },
      handler: async ({ principal, ...request }) => {
        const rows = await scopeMetadata.list(adminCall(principal, request));
        return { rows, total_count: rows.length };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/admin/scopes/:scope',
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: "Set a scope's metadata: 201 when it had none, 200 when replaced.",
      description:
        'Scopes: global, org:<org>, group:<org>/<path> of an existing group, project:<org>/<path>; personal ' +
        'scopes are 400, a scope of another organisation or a missing group 404.',
      tags: ['admin'],
      schema: {
        params: ScopeParams,
        body: Type.Object(metadataFields, { additionalProperties: false }),
        response: { 201: ScopeMetadataRecord, 200: ScopeMetadataRecord },
      },
      handler: async ({ params, body, principal, ...request }) => {
        const { record, created } = await scopeMetadata.set(
          adminCall(principal, request),
          params.scope,
          body,
        );
        return reply(created ? 201 : 200, record);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/admin/scopes/:scope',
      face: 'engram',
      auth: 'engram',
      summary: "Remove a scope's metadata (404 when it has none).",
      tags: ['admin'],
      schema: {
        params: ScopeParams,
        response: { 200: Type.Object({ scope: Type.String(), removed: Type.Literal(true) }) },
      },
      handler: async ({ params, principal, ...request }) => ({
        scope: await scopeMetadata.remove(adminCall(principal, request), params.scope),
        removed: true as const,
      }),
    }),
  ];
}
