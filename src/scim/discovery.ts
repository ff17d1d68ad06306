import { MAX_RESULTS } from './list.js';
import { MAX_PATCH_OPERATIONS } from './patch.js';
import { SCHEMAS } from './schema-names.js';

/**
 * The discovery documents of /scim/v2 (RFC 7644 §4, RFC 7643 §5-7): what this service provider supports
 * (PATCH, filters up to MAX_RESULTS per page, ETags; no bulk, sort or password change), its two resource
 * types, and the schemas of their attributes as mnemo keeps them.
 */
type Doc = Record<string, unknown>;

export function serviceProviderConfig(base: string): Doc {
  return {
    schemas: [SCHEMAS.serviceProviderConfig],
    documentationUri: 'https://github.com/mnemo/mnemo#scim-20-provisioning-scimv2',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'SCIM bearer token',
        description: 'Authorization: Bearer plur_scim_... (POST /api/v1/admin/scim/tokens)',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
    'x-mnemo-maxPatchOperations': MAX_PATCH_OPERATIONS,
  };
}

export function resourceTypes(base: string): Doc[] {
  return [
    {
      schemas: [SCHEMAS.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A user of the organisation',
      schema: SCHEMAS.user,
      schemaExtensions: [{ schema: SCHEMAS.enterpriseUser, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [SCHEMAS.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A group of the organisation (a mnemo group and its memberships)',
      schema: SCHEMAS.group,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

interface AttrOptions {
  type?: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable';
  returned?: 'always' | 'default';
  uniqueness?: 'none' | 'server';
  subAttributes?: Doc[];
}

function attr(name: string, description: string, o: AttrOptions = {}): Doc {
  return {
    name,
    type: o.type ?? 'string',
    multiValued: o.multiValued ?? false,
    description,
    required: o.required ?? false,
    caseExact: o.caseExact ?? false,
    mutability: o.mutability ?? 'readWrite',
    returned: o.returned ?? 'default',
    uniqueness: o.uniqueness ?? 'none',
    ...(o.subAttributes ? { subAttributes: o.subAttributes } : {}),
  };
}

const ref = (what: string) => [
  attr('value', `The ${what}'s id`, { caseExact: true }),
  attr('display', `The ${what}'s display name`, { mutability: 'readOnly' }),
  attr('$ref', `The ${what}'s URI`, { type: 'reference', mutability: 'readOnly' }),
];

export function schemas(base: string): Doc[] {
  const schema = (id: string, name: string, description: string, attributes: Doc[]): Doc => ({
    schemas: [SCHEMAS.schema],
    id,
    name,
    description,
    attributes,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` },
  });
  return [
    schema(SCHEMAS.user, 'User', 'User account', [
      attr('userName', 'Unique per organisation, ignoring case', { required: true, uniqueness: 'server' }),
      attr('externalId', "The IdP's id for the user", { caseExact: true }),
      attr('name', "The user's name", {
        type: 'complex',
        subAttributes: [
          'formatted',
          'familyName',
          'givenName',
          'middleName',
          'honorificPrefix',
          'honorificSuffix',
        ].map((n) => attr(n, n)),
      }),
      attr('displayName', 'Name shown in mnemo'),
      attr('emails', 'Email addresses; the primary one is the mnemo email', {
        type: 'complex',
        multiValued: true,
        subAttributes: [
          attr('value', 'Address'),
          attr('type', 'work, home or other'),
          attr('primary', 'The primary address', { type: 'boolean' }),
          attr('display', 'Display form'),
        ],
      }),
      attr('active', 'false deactivates: credentials stop at once, engrams stay', { type: 'boolean' }),
      attr('groups', 'Groups the user belongs to (change them through Groups)', {
        type: 'complex',
        multiValued: true,
        mutability: 'readOnly',
        subAttributes: ref('group'),
      }),
    ]),
    schema(SCHEMAS.group, 'Group', 'Group', [
      attr('displayName', 'Name of the group', { required: true }),
      attr('externalId', "The IdP's id for the group", { caseExact: true }),
      attr('members', 'Users in the group', {
        type: 'complex',
        multiValued: true,
        subAttributes: ref('user'),
      }),
    ]),
    schema(SCHEMAS.enterpriseUser, 'EnterpriseUser', 'Enterprise user', [
      ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map((n) => attr(n, n)),
      attr('manager', "The user's manager", {
        type: 'complex',
        subAttributes: [attr('value', "The manager's id"), attr('displayName', "The manager's name")],
      }),
    ]),
  ];
}
