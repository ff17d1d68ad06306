import type { ScimEmail, ScimUserAttributes, UserRecord } from '../auth/users.js';
import type { Json } from './filter-eval.js';
import { isObject } from './patch.js';
import { SCHEMAS, USER_NAMES, canonicalName } from './schema-names.js';
import { scimFail } from './scim-errors.js';

/**
 * A mnemo user in its SCIM form (RFC 7643 §4.1) and back. mnemo's own fields carry what both sides know:
 * `displayName` is display_name, `active` is active, the primary email is email. The rest (userName as the
 * IdP spells it, externalId, name, all emails, the enterprise extension) is kept on the record's `scim`
 * part. A user created through the REST admin API appears with its username as userName.
 *
 * The mnemo username (it names the personal scope user:<org>:<username>) is derived from the userName once,
 * at provisioning: characters outside [A-Za-z0-9._-] become "_" (alice@contoso.com -> alice_contoso.com).
 * A later userName change renames the SCIM identity only, so the personal scope and its engrams stay put.
 */
export interface GroupRef {
  value: string;
  display: string;
}

export interface ScimUserInput {
  userName: string;
  externalId: string | null;
  name: Record<string, string> | null;
  displayName: string | null;
  emails: ScimEmail[] | null;
  active: boolean;
  enterprise: Record<string, unknown> | null;
}

export const MAX_STRING = 256;
const MAX_EMAILS = 10;

export function usernameFor(userName: string): string {
  const name = userName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return name === '' ? 'user' : name;
}

export const userNameKey = (userName: string): string => userName.toLowerCase();

export function toScimUser(user: UserRecord, version: string, groups: GroupRef[], base: string): Json {
  const scim = user.scim;
  const emails =
    Array.isArray(scim?.emails) && scim.emails.length > 0
      ? scim.emails
      : user.email
        ? [{ value: user.email, type: 'work', primary: true }]
        : undefined;
  const enterprise = isObject(scim?.enterprise) ? scim.enterprise : undefined;
  return {
    schemas: enterprise ? [SCHEMAS.user, SCHEMAS.enterpriseUser] : [SCHEMAS.user],
    id: user.id,
    ...(scim?.externalId ? { externalId: scim.externalId } : {}),
    userName: scim?.userName ?? user.username,
    ...(isObject(scim?.name) ? { name: scim.name } : {}),
    ...(user.display_name !== null ? { displayName: user.display_name } : {}),
    ...(emails ? { emails } : {}),
    active: user.active,
    ...(groups.length > 0
      ? { groups: groups.map((g) => ({ ...g, $ref: `${base}/Groups/${g.value}` })) }
      : {}),
    ...(enterprise ? { [SCHEMAS.enterpriseUser]: enterprise } : {}),
    meta: {
      resourceType: 'User',
      created: user.created_at,
      lastModified: user.updated_at,
      location: `${base}/Users/${user.id}`,
      version: `W/"${version}"`,
    },
  };
}

/** Reads a User resource (POST/PUT body, or the result of a PATCH); refusals are 400 invalidValue. */
export function parseScimUser(body: unknown): ScimUserInput {
  if (!isObject(body)) throw scimFail.invalidSyntax('The body must be a User resource object');
  const get = (name: string): unknown => attribute(body, name);
  const userName = get('userName');
  if (typeof userName !== 'string' || userName.trim() === '')
    throw scimFail.invalidValue('userName is required and must be a non-empty string');
  if (userName.length > MAX_STRING)
    throw scimFail.invalidValue(`userName is longer than ${MAX_STRING} characters`);
  const enterpriseRaw = attribute(body, SCHEMAS.enterpriseUser);
  return {
    userName: userName.trim(),
    externalId: optionalString(get('externalId'), 'externalId'),
    name: parseName(get('name')),
    displayName: optionalString(get('displayName'), 'displayName'),
    emails: parseEmails(get('emails')),
    active: parseBoolean(get('active'), 'active') ?? true,
    enterprise: parseEnterprise(enterpriseRaw),
  };
}

/** The SCIM attributes to store for an input (the record's `scim` part). */
export function scimAttributes(input: ScimUserInput, deleted = false): ScimUserAttributes {
  return {
    userName: input.userName,
    name_key: userNameKey(input.userName),
    externalId: input.externalId,
    name: input.name,
    emails: input.emails,
    enterprise: input.enterprise,
    deleted,
  };
}

/** The primary email (or the first), which mnemo keeps as the user's email. */
export function primaryEmail(emails: ScimEmail[] | null): string | null {
  if (!emails || emails.length === 0) return null;
  return (emails.find((e) => e.primary === true) ?? emails[0])?.value ?? null;
}

function attribute(body: Json, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(body)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function optionalString(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw scimFail.invalidValue(`${field} must be a string`);
  if (value.length > MAX_STRING)
    throw scimFail.invalidValue(`${field} is longer than ${MAX_STRING} characters`);
  return value;
}

/** A boolean, or the strings "true"/"false" in any case (Entra sends "False"). */
export function parseBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw scimFail.invalidValue(`${field} must be a boolean`);
}

function parseName(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw scimFail.invalidValue('name must be an object');
  const subNames = USER_NAMES.sub.get('name');
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = canonicalName(subNames, key);
    if (!subNames?.has(name.toLowerCase())) continue;
    const text = optionalString(v, `name.${name}`);
    if (text !== null) out[name] = text;
  }
  return Object.keys(out).length > 0 ? out : null;
}

function parseEmails(value: unknown): ScimEmail[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw scimFail.invalidValue('emails must be an array');
  if (value.length > MAX_EMAILS) throw scimFail.invalidValue(`emails holds at most ${MAX_EMAILS} values`);
  const emails = value.map((raw, i): ScimEmail => {
    if (!isObject(raw)) throw scimFail.invalidValue(`emails[${i}] must be an object`);
    const get = (name: string): unknown => attribute(raw, name);
    const address = optionalString(get('value'), `emails[${i}].value`);
    if (address === null) throw scimFail.invalidValue(`emails[${i}].value is required`);
    const type = optionalString(get('type'), `emails[${i}].type`);
    const display = optionalString(get('display'), `emails[${i}].display`);
    const primary = parseBoolean(get('primary'), `emails[${i}].primary`);
    return {
      value: address,
      ...(type !== null ? { type } : {}),
      ...(primary !== undefined ? { primary } : {}),
      ...(display !== null ? { display } : {}),
    };
  });
  return emails.length > 0 ? emails : null;
}

function parseEnterprise(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw scimFail.invalidValue(`${SCHEMAS.enterpriseUser} must be an object`);
  const out: Record<string, unknown> = {};
  for (const name of ['employeeNumber', 'costCenter', 'organization', 'division', 'department']) {
    const text = optionalString(attribute(value, name), name);
    if (text !== null) out[name] = text;
  }
  const manager = attribute(value, 'manager');
  if (typeof manager === 'string' && manager !== '') out.manager = { value: manager.slice(0, MAX_STRING) };
  else if (isObject(manager)) {
    const id = optionalString(attribute(manager, 'value'), 'manager.value');
    const display = optionalString(attribute(manager, 'displayName'), 'manager.displayName');
    if (id !== null) out.manager = { value: id, ...(display !== null ? { displayName: display } : {}) };
  }
  return Object.keys(out).length > 0 ? out : null;
}
