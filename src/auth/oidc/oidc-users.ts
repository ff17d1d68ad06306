import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { fail } from '../../errors.js';
import { prefixedId } from '../../ids.js';
import type { RequestOrigin } from '../../memory/audit/audit-log.js';
import { groupScope } from '../../memory/engrams/scopes.js';
import { orgTenant } from '../../tenant.js';
import type { AdminCall } from '../admin-guard.js';
import type { GroupService } from '../groups.js';
import { runIdentityScript, type IdentityDeps } from '../identity-scripts.js';
import { isRole, strongerRole, type Role } from '../roles.js';
import { OrgScopeAccess } from '../scope-access.js';
import type { UserRecord, UserService } from '../users.js';
import type { OidcIssuerSettings } from './oidc-settings.js';

/**
 * Users of single sign-on, provisioned just in time and keyed by issuer + `sub` (lua/createOidcUser-5.lua),
 * never by email alone: an email can be reassigned or unverified, a `sub` is the IdP's stable id.
 * At every sign-in (and every IdP token this instance has not cached yet) the profile follows the IdP:
 * the role when a role claim is configured, the email, and, when a groups claim is configured, the group
 * memberships (the IdP is then the source of truth for memberships of that user: groups it does not name
 * are left). Every change goes through the same audited scripts as an admin's, with the system as actor.
 */
export interface OidcProfile {
  username: string;
  email: string | null;
  /** From the role claim; undefined when none is configured or it names no known role. */
  role: Role | undefined;
  /** Group paths from the groups claim; undefined when none is configured. */
  groups: string[] | undefined;
}

const USERNAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** The profile a token's claims describe under an issuer's claim mapping. */
export function profileFrom(claims: JWTPayload, settings: OidcIssuerSettings): OidcProfile {
  const named = claims[settings.claims.username];
  const raw = typeof named === 'string' && named.trim() !== '' ? named.trim() : String(claims.sub);
  const email = claims[settings.claims.email];
  const roleClaim = settings.claims.role === undefined ? undefined : claims[settings.claims.role];
  const roles = (Array.isArray(roleClaim) ? roleClaim : [roleClaim]).filter(isRole);
  const groupsClaim = settings.claims.groups === undefined ? undefined : claims[settings.claims.groups];
  return {
    username: usernameOf(raw),
    email: typeof email === 'string' ? email.slice(0, 320) : null,
    role: roles.reduce<Role | null>((a, b) => strongerRole(a, b), null) ?? undefined,
    groups:
      settings.claims.groups === undefined
        ? undefined
        : (Array.isArray(groupsClaim) ? groupsClaim : typeof groupsClaim === 'string' ? [groupsClaim] : [])
            .filter((g): g is string => typeof g === 'string')
            .slice(0, 1000),
  };
}

/** A claim value as a username: [A-Za-z0-9._-], at most 64 characters (it names user:<org>:<username>). */
export function usernameOf(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64);
  return USERNAME_PATTERN.test(cleaned) ? cleaned : 'user';
}

export class OidcUsers {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly users: UserService,
    private readonly groups: GroupService,
  ) {}

  /** The user of a verified identity, created on first sight and brought in line with the IdP. */
  async signIn(
    settings: OidcIssuerSettings,
    claims: JWTPayload,
    origin: RequestOrigin,
    requestId: string,
  ): Promise<UserRecord> {
    if (typeof claims.sub !== 'string' || claims.sub === '')
      throw fail.unauthorized('The token has no subject');
    const profile = profileFrom(claims, settings);
    const call = systemCall(settings.org, origin, requestId);
    const identity = `${settings.issuer} ${claims.sub}`;
    let user = await this.link(call, identity, profile, profile.role ?? settings.defaultRole);
    const patch: Partial<UserRecord> = {};
    if (profile.role !== undefined && profile.role !== user.role) patch.role = profile.role;
    if (profile.email !== null && profile.email !== user.email) patch.email = profile.email;
    if (user.active && Object.keys(patch).length > 0)
      user = await this.users.updateUser(call, user.id, patch);
    if (user.active && profile.groups !== undefined) await this.syncGroups(call, user, profile.groups);
    return user;
  }

  private async link(
    call: AdminCall,
    identity: string,
    profile: OidcProfile,
    role: Role,
  ): Promise<UserRecord> {
    const { tenant } = call.caller;
    const now = new Date().toISOString();
    const id = prefixedId('usr');
    const user: Omit<UserRecord, 'username' | 'id'> = {
      email: profile.email,
      display_name: null,
      role,
      active: true,
      created_at: now,
      updated_at: now,
    };
    const suffix = createHash('sha256').update(identity).digest('hex').slice(0, 8);
    const fallback = `${profile.username.slice(0, 55)}-${suffix}`;
    const entry = this.deps.audit.entry(
      { org: call.caller.org, actor: call.caller.actor, requestId: call.requestId, origin: call.origin },
      'user.create',
      { type: 'user', id },
      'success',
      undefined,
      { via: 'oidc', issuer: identity.slice(0, identity.indexOf(' ')) },
    );
    const stored = await runIdentityScript(
      this.deps,
      'createOidcUser',
      [this.deps.keys.users(tenant), this.deps.keys.usernames(tenant), this.deps.keys.oidcIdentities(tenant)],
      call,
      [
        identity,
        id,
        profile.username,
        fallback,
        JSON.stringify(user),
        JSON.stringify(entry),
        this.deps.audit.maxLen,
      ],
    );
    if (stored === 'conflict')
      throw fail.conflict(`The usernames ${profile.username} and ${fallback} are taken`);
    return JSON.parse(stored as string) as UserRecord;
  }

  /** Memberships become exactly the named groups that exist, each with the user's organisation role. */
  private async syncGroups(call: AdminCall, user: UserRecord, named: string[]): Promise<void> {
    const { org, tenant } = call.caller;
    const paths = new Set(named.map((g) => groupPathOf(g, org)).filter((p): p is string => p !== undefined));
    const byPath = new Map<string, string>();
    const known = await this.deps.redis.hgetall(this.deps.keys.groupPaths(tenant));
    for (const [path, groupId] of Object.entries(known)) if (paths.has(path)) byPath.set(path, groupId);
    const current = await this.groups.membershipsOf(tenant, user.id);
    const wanted = new Set(byPath.values());
    for (const membership of current) {
      if (!wanted.has(membership.groupId)) await this.groups.removeMember(call, membership.groupId, user.id);
    }
    for (const groupId of wanted) {
      const had = current.find((m) => m.groupId === groupId);
      if (!had || had.role !== user.role) await this.groups.addMember(call, groupId, user.id, user.role);
    }
  }
}

/** A groups-claim value as a group path of `org`: `team/sub`, `/team/sub` (Keycloak) or `group:<org>/team/sub`. */
function groupPathOf(value: string, org: string): string | undefined {
  const prefix = groupScope(org, '');
  const path = value.startsWith(prefix) ? value.slice(prefix.length) : value.replace(/^\/+/, '');
  return path === '' || path.length > 512 ? undefined : path;
}

/** Changes made on behalf of the identity provider: the system acts, as organisation admin. */
function systemCall(org: string, origin: RequestOrigin, requestId: string): AdminCall {
  return {
    caller: {
      org,
      tenant: orgTenant(org),
      access: new OrgScopeAccess(org, null, 'admin', [], []),
      actor: { type: 'system', id: 'oidc' },
      userId: null,
      isOrgAdmin: true,
    },
    requestId,
    origin,
  };
}
