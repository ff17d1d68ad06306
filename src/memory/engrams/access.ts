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
  readonly org: string;
  readonly access: ScopeAccess;
  readonly actor: Actor;
  /** The user behind the credential, or null for the bootstrap admin key. */
  readonly userId: string | null;
  /** Organisation admin (admin endpoints, sessions of others). */
  readonly isOrgAdmin: boolean;
}
