import { fail } from '../../errors.js';
import type { Tenant } from '../../tenant.js';
import type { RequestOrigin } from '../audit/audit-log.js';
import type { Actor } from '../events.js';

/**
 * What the engram domain needs to know about a caller. The permission model itself (roles, memberships,
 * the organisation admin) lives in src/auth/scope-access.ts, which implements `ScopeAccess`; this module
 * only asks questions about canonical scope strings (see scopes.ts).
 */
export interface ScopeAccess {
  readonly org: string;
  /** The caller's personal scope (user:<org>:<name>), or null for the bootstrap admin key. */
  readonly ownScope: string | null;
  /** The scopes the caller reads, as /me lists them (sub-scopes of these are readable too). */
  readonly readableScopes: readonly string[];
  canRead(scope: string): boolean;
  /** Needs the editor or admin role in the scope. */
  canWrite(scope: string): boolean;
  /** Needs the admin role in the scope. */
  canPin(scope: string): boolean;
}

/** A caller of the engram services: the tenant, the access it has, and who events and audits name. */
export interface EngramCaller {
  /** The organisation's id, as scopes spell it. */
  readonly org: string;
  /** Where the organisation's data lives (orgTenant(org)): every key of an engram service is built from it. */
  readonly tenant: Tenant;
  readonly access: ScopeAccess;
  readonly actor: Actor;
  /** The user behind the credential, or null for the bootstrap admin key. */
  readonly userId: string | null;
  /** The user's name (audit entries carry it); "admin" for the bootstrap admin key. */
  readonly username?: string | undefined;
  /** Organisation admin (admin endpoints, sessions of others). */
  readonly isOrgAdmin: boolean;
  /** The door the call came through when it is not plain REST (MCP), for the audit trail. */
  readonly origin?: RequestOrigin | undefined;
}

/**
 * What a caller is told when it may not act on an engram (plur seed "Errors"). One in a scope it cannot
 * read answers exactly like a missing one, 404, so existence never leaks; one it reads but may not change
 * is 403 (insufficient permission): the caller already knows it exists and in which scope.
 */
export const engramNotFound = (id: string) => fail.notFound(`Engram ${id} not found`);
export const noWriteAccess = (scope: string) =>
  fail.forbidden(`User does not have write access to scope ${scope}.`);
export const noPinAccess = (scope: string) =>
  fail.forbidden(`Pinning needs the admin role in scope ${scope}.`);

/** 404 unless the caller reads `scope` (the engram's), then 403 unless it also writes it. */
export function requireWritable(access: ScopeAccess, id: string, scope: string): void {
  if (!access.canRead(scope)) throw engramNotFound(id);
  if (!access.canWrite(scope)) throw noWriteAccess(scope);
}
