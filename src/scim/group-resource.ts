import { createHash } from 'node:crypto';
import type { GroupRecord } from '../auth/groups.js';
import type { Json } from './filter-eval.js';
import { isObject } from './patch.js';
import { SCHEMAS } from './schema-names.js';
import { scimFail } from './scim-errors.js';

/**
 * A mnemo group in its SCIM form (RFC 7643 §4.2) and back. The IdP's displayName is kept on the group's
 * `scim` part; the group's path (which names its scope group:<org>/<path>) is derived from it once, at
 * provisioning: runs of characters outside [A-Za-z0-9._-] become "-" ("Sales EMEA" -> Sales-EMEA). A later
 * rename changes the displayName only, so engrams in the group's scope stay where they are. Members are
 * users, by id; SCIM members get the viewer role (an admin may raise it through the admin API, and SCIM
 * leaves the role of an existing member alone).
 */
export interface MemberRef {
  value: string;
  display: string;
}

export interface ScimGroupInput {
  displayName: string;
  externalId: string | null;
  /** User ids; null when the body does not mention members (PUT keeps them then). */
  members: string[] | null;
}

const MAX_MEMBERS_PER_REQUEST = 1000;

export const displayNameOf = (group: GroupRecord): string => group.scim?.displayName ?? group.name;

export function groupPathFor(displayName: string): string {
  const path = displayName
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return path === '' ? 'group' : path;
}

/** The version of a group: its record and its member ids (SCIM's ETag names it). */
export function groupVersion(group: GroupRecord, memberIds: string[]): string {
  return createHash('sha1')
    .update(JSON.stringify(group))
    .update('\n')
    .update([...memberIds].sort().join(','))
    .digest('hex');
}

export function toScimGroup(group: GroupRecord, members: MemberRef[], base: string): Json {
  const ids = members.map((m) => m.value);
  return {
    schemas: [SCHEMAS.group],
    id: group.id,
    ...(group.scim?.externalId ? { externalId: group.scim.externalId } : {}),
    displayName: displayNameOf(group),
    members: members.map((m) => ({ ...m, type: 'User', $ref: `${base}/Users/${m.value}` })),
    meta: {
      resourceType: 'Group',
      created: group.created_at,
      lastModified: group.created_at,
      location: `${base}/Groups/${group.id}`,
      version: `W/"${groupVersion(group, ids)}"`,
    },
  };
}

export function parseScimGroup(body: unknown): ScimGroupInput {
  if (!isObject(body)) throw scimFail.invalidSyntax('The body must be a Group resource object');
  const get = (name: string): unknown =>
    Object.entries(body).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const displayName = get('displayName');
  if (typeof displayName !== 'string' || displayName.trim() === '')
    throw scimFail.invalidValue('displayName is required and must be a non-empty string');
  if (displayName.length > 256) throw scimFail.invalidValue('displayName is longer than 256 characters');
  const externalId = get('externalId');
  if (externalId !== undefined && externalId !== null && typeof externalId !== 'string')
    throw scimFail.invalidValue('externalId must be a string');
  return {
    displayName: displayName.trim(),
    externalId: typeof externalId === 'string' && externalId !== '' ? externalId.slice(0, 256) : null,
    members: parseMembers(get('members')),
  };
}

function parseMembers(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw scimFail.invalidValue('members must be an array');
  if (value.length > MAX_MEMBERS_PER_REQUEST)
    throw scimFail.invalidValue(`members holds at most ${MAX_MEMBERS_PER_REQUEST} values per request`);
  const ids = value.map((m, i) => {
    const id = isObject(m) ? Object.entries(m).find(([k]) => k.toLowerCase() === 'value')?.[1] : undefined;
    if (typeof id !== 'string' || id === '')
      throw scimFail.invalidValue(`members[${i}].value must be a user id`);
    return id;
  });
  return [...new Set(ids)];
}
