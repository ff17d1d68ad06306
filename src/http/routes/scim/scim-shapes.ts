import { Type, type TSchema } from '@sinclair/typebox';
import type { AdminCall } from '../../../auth/admin-guard.js';
import type { ScimPrincipal } from '../../../auth/principal.js';
import { FILTER_MAX_LENGTH } from '../../../scim/filter-tokens.js';
import { SCHEMAS } from '../../../scim/schema-names.js';
import type { ScimCall } from '../../../scim/scim-users.js';

/**
 * Schemas and request plumbing shared by the /scim/v2 routes. Resources are declared attribute by attribute
 * (only declared fields are sent); every attribute is optional because `attributes`/`excludedAttributes`
 * may leave any of them out. Bodies are open objects: SCIM clients send attributes mnemo does not keep
 * (phoneNumbers, addresses ...), which RFC 7644 lets a service provider ignore, and src/scim reads them.
 */
const S = () => Type.Optional(Type.String());
const B = () => Type.Optional(Type.Boolean());

const Meta = Type.Optional(
  Type.Object({ resourceType: S(), created: S(), lastModified: S(), location: S(), version: S() }),
);
const Ref = Type.Object({ value: S(), display: S(), $ref: S(), type: S() });

export const ScimUser = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String(),
    externalId: S(),
    userName: S(),
    name: Type.Optional(
      Type.Object({
        formatted: S(),
        familyName: S(),
        givenName: S(),
        middleName: S(),
        honorificPrefix: S(),
        honorificSuffix: S(),
      }),
    ),
    displayName: S(),
    emails: Type.Optional(Type.Array(Type.Object({ value: S(), type: S(), primary: B(), display: S() }))),
    active: B(),
    groups: Type.Optional(Type.Array(Ref)),
    [SCHEMAS.enterpriseUser]: Type.Optional(
      Type.Object({
        employeeNumber: S(),
        costCenter: S(),
        organization: S(),
        division: S(),
        department: S(),
        manager: Type.Optional(Type.Object({ value: S(), displayName: S() })),
      }),
    ),
    meta: Meta,
  },
  { title: 'ScimUser' },
);

export const ScimGroup = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String(),
    externalId: S(),
    displayName: S(),
    members: Type.Optional(Type.Array(Ref)),
    meta: Meta,
  },
  { title: 'ScimGroup' },
);

export const ListOf = <T extends TSchema>(resource: T, title: string) =>
  Type.Object(
    {
      schemas: Type.Array(Type.String()),
      totalResults: Type.Integer(),
      startIndex: Type.Integer(),
      itemsPerPage: Type.Integer(),
      Resources: Type.Array(resource),
    },
    { title },
  );

export const ListQuery = Type.Object({
  filter: Type.Optional(
    Type.String({ maxLength: FILTER_MAX_LENGTH, description: 'RFC 7644 §3.4.2.2, e.g. userName eq "a@b.c"' }),
  ),
  startIndex: Type.Optional(Type.Integer({ description: '1-based; smaller values count as 1' })),
  count: Type.Optional(Type.Integer({ description: 'Page size, at most 200; 0 returns only totalResults' })),
  attributes: Type.Optional(Type.String({ maxLength: 2000 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2000 })),
});

export const ReadQuery = Type.Object({
  attributes: Type.Optional(Type.String({ maxLength: 2000 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2000 })),
});

export const ResourceId = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }) });

/** A resource body: an open object, read by src/scim. */
export const ResourceBody = (title: string) =>
  Type.Object({ schemas: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: true, title });

export const PatchBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(Type.String())),
    Operations: Type.Array(
      Type.Object(
        {
          op: Type.String({ maxLength: 16, description: 'add, replace or remove, in any case' }),
          path: Type.Optional(Type.String({ maxLength: 1000 })),
          value: Type.Optional(Type.Unknown()),
        },
        { additionalProperties: true },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  { additionalProperties: true, title: 'ScimPatchOp' },
);

/** A free-form JSON document (the discovery documents, which are static and built here). */
export const Document = (title: string) =>
  Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, title });

/** 204 answers have no body. */
export const NoContent = Type.Null({ description: 'No content' });

interface RequestParts {
  principal: ScimPrincipal;
  requestId: string;
  ip: string;
  header: (name: string) => string | undefined;
}

/** The call a SCIM request makes: audited with channel `scim`, with its base URL and If-Match. */
export function scimCall(request: RequestParts): ScimCall {
  const { principal, requestId, ip } = request;
  const header = (name: string): string | undefined => request.header(name);
  const call: AdminCall = {
    caller: principal,
    requestId,
    origin: { channel: 'scim', ip, userAgent: header('user-agent') },
  };
  const proto = header('x-forwarded-proto') === 'https' ? 'https' : 'http';
  const host = header('host') ?? 'localhost';
  return { ...call, base: `${proto}://${host}/scim/v2`, ifMatch: etagOf(header('if-match')) };
}

/** `W/"abc"` or `"abc"` -> abc; `*` stays; absent -> undefined. */
function etagOf(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (text === '*') return '*';
  const match = /^(?:W\/)?"([^"]*)"$/.exec(text);
  return match ? match[1] : text;
}

/** The ETag header of a resource (its meta.version). */
export const etagHeader = (resource: Record<string, unknown>): Record<string, string> => {
  const meta = resource.meta as { version?: string; location?: string } | undefined;
  return meta?.version ? { ETag: meta.version } : {};
};
