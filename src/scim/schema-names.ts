/**
 * The SCIM schemas mnemo serves (RFC 7643) and the canonical spelling of their attribute names. Requests
 * may spell names in any case (RFC 7643 §2.1); resources are built and stored with these spellings.
 */
export const SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** Canonical names by lower-cased name: top-level attributes, and sub-attributes by their parent. */
export interface NameBook {
  top: ReadonlyMap<string, string>;
  sub: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Lower-cased URIs of the extensions a resource may carry, with their canonical spelling. */
  extensions: ReadonlyMap<string, string>;
}

const byLower = (names: string[]): ReadonlyMap<string, string> =>
  new Map(names.map((n) => [n.toLowerCase(), n]));

export const USER_NAMES: NameBook = {
  top: byLower([
    'id',
    'externalId',
    'userName',
    'name',
    'displayName',
    'nickName',
    'title',
    'emails',
    'active',
    'groups',
    'meta',
    'schemas',
    // Enterprise extension attributes, as they appear inside the extension object.
    'employeeNumber',
    'costCenter',
    'organization',
    'division',
    'department',
    'manager',
  ]),
  sub: new Map([
    [
      'name',
      byLower(['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix']),
    ],
    ['emails', byLower(['value', 'type', 'primary', 'display'])],
    ['manager', byLower(['value', 'displayName', '$ref'])],
  ]),
  extensions: byLower([SCHEMAS.enterpriseUser]),
};

export const GROUP_NAMES: NameBook = {
  top: byLower(['id', 'externalId', 'displayName', 'members', 'meta', 'schemas']),
  sub: new Map([['members', byLower(['value', 'display', 'type', '$ref'])]]),
  extensions: new Map(),
};

export const canonicalName = (names: ReadonlyMap<string, string> | undefined, name: string): string =>
  names?.get(name.toLowerCase()) ?? name;
