import { fail } from '../errors.js';
import { prefixedId } from '../ids.js';
import type { Tenant } from '../tenant.js';
import { auditContext, requireOrgAdmin, type AdminCall } from './admin-guard.js';
import { runAccessChange, runIdentityScript, userTag, type IdentityDeps } from './identity-scripts.js';
import type { Role } from './roles.js';

/** Users of an organisation: provisioning, role and activation changes (admins; audited). */
export interface UserRecord {
  id: string;
  username: string;
  email: string | null;
  display_name: string | null;
  role: Role;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export type UserPatch = Partial<Pick<UserRecord, 'username' | 'email' | 'display_name' | 'role' | 'active'>>;

export class UserService {
  constructor(private readonly deps: IdentityDeps) {}

  async createUser(
    call: AdminCall,
    input: { username: string; email: string | null; display_name: string | null; role: Role },
  ): Promise<UserRecord> {
    await requireOrgAdmin(this.deps.audit, call, 'user.create', { type: 'user', id: input.username });
    const { tenant } = call.caller;
    const now = new Date().toISOString();
    const user: UserRecord = {
      id: prefixedId('usr'),
      ...input,
      active: true,
      created_at: now,
      updated_at: now,
    };
    const entry = this.deps.audit.entry(auditContext(call), 'user.create', { type: 'user', id: user.id });
    const stored = await runIdentityScript(
      this.deps,
      'createUser',
      [this.deps.keys.users(tenant), this.deps.keys.usernames(tenant)],
      call,
      [user.id, user.username, JSON.stringify(user), JSON.stringify(entry), this.deps.audit.maxLen],
    );
    if (stored === 'conflict') throw fail.conflict(`A user named ${user.username} already exists`);
    return user;
  }

  async updateUser(call: AdminCall, userId: string, patch: UserPatch): Promise<UserRecord> {
    await requireOrgAdmin(this.deps.audit, call, 'user.update', { type: 'user', id: userId });
    const { org, tenant } = call.caller;
    if (patch.active === false && call.caller.userId === userId)
      throw fail.unprocessable('You cannot deactivate your own user');
    const entry = this.deps.audit.entry(auditContext(call), 'user.update', { type: 'user', id: userId });
    const result = await runAccessChange(
      this.deps,
      'updateUser',
      [this.deps.keys.users(tenant), this.deps.keys.usernames(tenant)],
      call,
      [userId, JSON.stringify(patch)],
      { tag: userTag(org, userId), audit: entry },
    );
    if (result === 'not_found') throw fail.notFound('User not found');
    if (result === 'conflict') throw fail.conflict(`A user named ${patch.username ?? ''} already exists`);
    return JSON.parse(result as string) as UserRecord;
  }

  /**
   * Deactivates a user (DELETE /api/v1/admin/users/{id}): their keys and sessions stop at once on every
   * instance, their engrams stay. The same change as PATCH active=false, so there is one mechanism.
   */
  deactivateUser(call: AdminCall, userId: string): Promise<UserRecord> {
    return this.updateUser(call, userId, { active: false });
  }

  /** One user of the caller's organisation (admins); 404 for an id of another organisation. */
  async readUser(call: AdminCall, userId: string): Promise<UserRecord> {
    await requireOrgAdmin(this.deps.audit, call, 'user.read', { type: 'user', id: userId });
    const user = await this.getUser(call.caller.tenant, userId);
    if (!user) throw fail.notFound('User not found');
    return user;
  }

  async getUser(tenant: Tenant, userId: string): Promise<UserRecord | undefined> {
    const raw = await this.deps.redis.hget(this.deps.keys.users(tenant), userId);
    return raw === null ? undefined : (JSON.parse(raw) as UserRecord);
  }

  async listUsers(call: AdminCall): Promise<UserRecord[]> {
    await requireOrgAdmin(this.deps.audit, call, 'user.list', { type: 'org', id: call.caller.org });
    await this.deps.audit.record(
      this.deps.audit.entry(auditContext(call), 'user.list', { type: 'org', id: call.caller.org }),
    );
    const rows = await this.deps.redis.hvals(this.deps.keys.users(call.caller.tenant));
    return rows
      .map((raw) => JSON.parse(raw) as UserRecord)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }
}
