import type { ScopeAccess } from '../memory/engrams/access.js';
import { groupScope, isPathWithin, orgScope, parseScope, userScope } from '../memory/engrams/scopes.js';
import { atLeast, strongerRole, type Role } from './roles.js';

/**
 * The permission model of the engram API (plur.md §1.10), resolved once per credential and cached with the
 * principal (dropped on every instance when a membership, a role or the organisation's groups change):
 *
 *   scope                     role of the caller
 *   global, org:<own org>     the caller's organisation role
 *   user:<own org>:<own name> the caller's organisation role (personal scopes are never shared, not even
 *                             with organisation admins)
 *   group:/project:<own org>/<path>
 *                             admin for organisation admins; otherwise the strongest role of the caller's
 *                             memberships in a group whose path is <path> or one of its ancestors
 *                             (membership of platform covers platform/infra and project:<org>/platform/api)
 *   anything else             none (another organisation's scopes, other users' personal scopes)
 *
 * Reading needs any role, writing editor or admin, pinning admin.
 */
export interface Membership {
  groupId: string;
  /** Group path inside the organisation: team or team/sub. */
  path: string;
  role: Role;
}

const MEMO_LIMIT = 1024;

export class OrgScopeAccess implements ScopeAccess {
  readonly ownScope: string | null;
  readonly readableScopes: readonly string[];
  private readonly memo = new Map<string, Role | null>();

  constructor(
    readonly org: string,
    /**
     * The caller's username when the credential opens their personal scope; null for the bootstrap admin
     * key and for keys an admin issued for someone else (PlurKeyRecord.personal).
     */
    private readonly username: string | null,
    private readonly orgRole: Role,
    private readonly memberships: readonly Membership[],
    /** Every group path of the organisation (for listing the readable ones). */
    groupPaths: readonly string[],
  ) {
    this.ownScope = username === null ? null : userScope(org, username);
    const groups = groupPaths.filter((path) => this.groupRole(path) !== null).map((p) => groupScope(org, p));
    for (const m of memberships) {
      const scope = groupScope(org, m.path);
      if (!groups.includes(scope)) groups.push(scope);
    }
    groups.sort();
    this.readableScopes = [...(this.ownScope ? [this.ownScope] : []), orgScope(org), 'global', ...groups];
  }

  /** The caller's role in a scope, or null when the scope is not theirs to see. */
  roleIn(scope: string): Role | null {
    let role = this.memo.get(scope);
    if (role === undefined) {
      role = this.resolve(scope);
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(scope, role);
    }
    return role;
  }

  canRead(scope: string): boolean {
    return this.roleIn(scope) !== null;
  }

  canWrite(scope: string): boolean {
    return atLeast(this.roleIn(scope), 'editor');
  }

  canPin(scope: string): boolean {
    return atLeast(this.roleIn(scope), 'admin');
  }

  private resolve(raw: string): Role | null {
    const scope = parseScope(raw, this.org);
    if (!scope) return null;
    switch (scope.kind) {
      case 'global':
        return this.orgRole;
      case 'org':
        return scope.org === this.org ? this.orgRole : null;
      case 'user':
        return scope.org === this.org && this.username !== null && scope.path === this.username
          ? this.orgRole
          : null;
      case 'group':
      case 'project':
        return scope.org === this.org ? this.groupRole(scope.path) : null;
    }
  }

  private groupRole(path: string): Role | null {
    if (this.orgRole === 'admin') return 'admin';
    let role: Role | null = null;
    for (const m of this.memberships) if (isPathWithin(path, m.path)) role = strongerRole(role, m.role);
    return role;
  }
}

/**
 * Whether an engram-API principal (EngramPrincipal) may read a scope: the one question the live event
 * stream asks before it forwards an event whose `data.scope` is set.
 */
export const canReadScope = (principal: { access: ScopeAccess }, scope: string): boolean =>
  principal.access.canRead(scope);
