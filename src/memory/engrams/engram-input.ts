import { fail } from '../../errors.js';
import type { ScopeAccess } from './access.js';
import { CLIENT_FIELDS, SERVER_FIELDS, type Commitment, type EngramType } from './model.js';
import { orgScope, parseScope } from './scopes.js';
import { findSecret, stringsOf } from './secrets.js';

/**
 * Checks shared by creating and changing engrams. Types and lengths are the route schemas' business;
 * these are the rules a schema cannot say: scopes, the validity window, server-owned fields, the size of
 * the unknown fields, and secrets aimed at shared scopes.
 */
export interface EngramBody {
  statement?: string;
  type?: EngramType;
  scope?: string;
  domain?: string | null;
  tags?: string[];
  rationale?: string | null;
  pinned?: boolean;
  commitment?: Commitment;
  locked_reason?: string | null;
  valid_from?: string | null;
  valid_until?: string | null;
  supersedes?: string[];
  source?: string | null;
  session_id?: string | null;
  id?: string;
  status?: string;
  /** The engram object is open: anything else is kept and returned as is. */
  [field: string]: unknown;
}

const NOT_EXTRA: ReadonlySet<string> = new Set<string>([...CLIENT_FIELDS, 'id', 'session_id']);

/**
 * The body's unknown fields (the open part of the model). A server-owned field is refused rather than
 * silently dropped; `status` is refused only where the caller says so (PATCH accepts it).
 */
export function extraFields(
  body: EngramBody,
  maxBytes: number,
  allowed: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (NOT_EXTRA.has(key) || allowed.has(key)) continue;
    if (SERVER_FIELDS.has(key)) throw fail.validation(`body.${key} is managed by the server`);
    extra[key] = value;
  }
  if (Buffer.byteLength(JSON.stringify(extra)) > maxBytes)
    throw fail.validation(`Fields outside the engram model may take at most ${maxBytes} bytes as JSON`);
  return extra;
}

/** A scope named in a request, canonical (400 when it is not a scope at all). */
export function requireScope(raw: string, org: string, field = 'body.scope'): string {
  const scope = parseScope(raw, org);
  if (!scope)
    throw fail.validation(
      `${field} must be global, org:<org>, user:<org>:<name>, group:<org>/<path> or project:<org>/<path>`,
    );
  return scope.text;
}

/** Where an engram goes when the request names no scope: the caller's own scope, else the organisation. */
export const defaultScope = (access: ScopeAccess): string => access.ownScope ?? orgScope(access.org);

/** The validity window: real dates (the schema checks only the shape), in order. */
export function checkValidity(from: string | null, until: string | null): void {
  for (const [name, value] of [
    ['valid_from', from],
    ['valid_until', until],
  ] as const)
    if (value !== null && !Number.isFinite(Date.parse(value)))
      throw fail.validation(`${name} is not a valid date`);
  if (from !== null && until !== null && Date.parse(from) > Date.parse(until))
    throw fail.validation('valid_from must not be after valid_until');
}

/** Engram texts that must not carry secrets into a shared scope. */
export interface EngramTexts {
  statement: string;
  rationale: string | null;
  source: string | null;
  locked_reason: string | null;
  domain: string | null;
  tags: readonly string[];
}

/**
 * 422 when a secret would be spread: every scope but the author's own personal scope is shared (plur.md
 * §1.5 demotes such engrams; a REST write refuses them so nothing moves behind the client's back).
 */
export function refuseSecrets(
  scope: string,
  access: ScopeAccess,
  texts: EngramTexts,
  extra: Record<string, unknown>,
): void {
  if (scope === access.ownScope) return;
  const kind = findSecret([
    texts.statement,
    texts.rationale,
    texts.source,
    texts.locked_reason,
    texts.domain,
    ...texts.tags,
    ...stringsOf(extra),
  ]);
  if (kind !== undefined)
    throw fail.unprocessable(
      `The engram looks like it contains a secret (${kind}); secrets may only be kept in your own user scope, not in ${scope}`,
    );
}
