import { createHash } from 'node:crypto';
import { fail, MnemoError } from '../errors.js';
import { prefixedId } from '../ids.js';
import type { Tenant } from '../tenant.js';
import { auditContext, requireOrgAdmin, type AdminCall } from './admin-guard.js';
import { runAccessChange, runIdentityScript, userTag, type IdentityDeps } from './identity-scripts.js';
import { ScriptError } from '../redis/script-errors.js';
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
  /** Present once the user is provisioned or changed through SCIM (/scim/v2, src/scim). */
  scim?: ScimUserAttributes;
}

/**
 * The SCIM attributes mnemo keeps on a user record beside its own fields (display_name, email and active
 * are mnemo's and SCIM reads them). Empty lists are stored as null: the record passes through Lua's cjson,
 * which cannot tell an empty array from an empty object.
 */
export interface ScimUserAttributes {
  userName: string;
  /** The lower-cased userName: the user's entry in the organisation's SCIM userName index. */
  name_key: string;
  externalId: string | null;
  name: Record<string, string> | null;
  emails: ScimEmail[] | null;
  /** urn:ietf:params:scim:schemas:extension:enterprise:2.0:User, as the IdP sent it (scalars and manager). */
  enterprise: Record<string, unknown> | null;
  /** DELETE /scim/v2/Users/{id}: the user is deactivated and gone from SCIM (404); the record stays. */
  deleted: boolean;
}

export interface ScimEmail {
  value: string;
  type?: string;
  primary?: boolean;
  display?: string;
}

export type UserPatch = Partial<
  Pick<UserRecord, 'username' | 'email' | 'display_name' | 'role' | 'active' | 'scim'>
>;

/** What a change may also require and do (SCIM): see lua/updateUser-5.lua. */
export interface UserChangeOptions {
  /** The version (userVersion) the caller last read; a changed record is a 412. */
  ifVersion?: string;
  /** The SCIM userName index entry the user holds after the change ('release' on SCIM DELETE). */
  scimNameKey?: { set: string } | 'release';
  /** What the audit entry records about the change. */
  auditPayload?: Record<string, unknown>;
}

/** A stored user with its version: the SHA-1 of the stored record (SCIM's ETag names it). */
export interface VersionedUser {
  user: UserRecord;
  version: string;
}

export const userVersion = (raw: string): string => createHash('sha1').update(raw).digest('hex');

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
    return (await this.changeUser(call, userId, patch)).user;
  }

  /**
   * The one path of every user change (REST PATCH, SCIM PUT/PATCH/DELETE): role, activation (a deactivated
   * user's credentials stop on every instance at once; their engrams stay), profile and SCIM attributes.
   */
  async changeUser(
    call: AdminCall,
    userId: string,
    patch: UserPatch,
    options: UserChangeOptions = {},
  ): Promise<VersionedUser> {
    await requireOrgAdmin(this.deps.audit, call, 'user.update', { type: 'user', id: userId });
    const { org, tenant } = call.caller;
    if (patch.active === false && call.caller.userId === userId)
      throw fail.unprocessable('You cannot deactivate your own user');
    const entry = this.deps.audit.entry(
      auditContext(call),
      'user.update',
      { type: 'user', id: userId },
      'success',
      new Date(),
      options.auditPayload ?? null,
    );
    const nameKey = options.scimNameKey;
    let result: unknown;
    try {
      result = await runAccessChange(
        this.deps,
        'updateUser',
        [
          this.deps.keys.users(tenant),
          this.deps.keys.scimUserNames(tenant),
          this.deps.keys.usernames(tenant),
        ],
        call,
        [userId, JSON.stringify(patch)],
        {
          tag: userTag(org, userId),
          audit: entry,
          tail: [
            options.ifVersion ?? '',
            nameKey === undefined || nameKey === 'release' ? '' : nameKey.set,
            nameKey === 'release' ? '1' : '',
          ],
        },
      );
    } catch (err) {
      if (err instanceof ScriptError && err.kind === 'mismatch')
        throw new MnemoError('precondition_failed', 'The user changed: If-Match does not name its version');
      throw err;
    }
    if (result === 'not_found') throw fail.notFound('User not found');
    if (result === 'conflict' && nameKey === undefined)
      throw fail.conflict(`A user named ${patch.username ?? ''} already exists`);
    if (result === 'conflict')
      throw new MnemoError('conflict', 'Another user has this userName', {
        meta: { scimType: 'uniqueness' },
      });
    const json = result as string;
    return { user: JSON.parse(json) as UserRecord, version: userVersion(json) };
  }

  /** Provisions a user through SCIM: its mnemo username and SCIM userName must both be free (409). */
  async provisionScimUser(
    call: AdminCall,
    input: Pick<UserRecord, 'username' | 'email' | 'display_name' | 'role' | 'active'> & {
      scim: ScimUserAttributes;
    },
  ): Promise<VersionedUser> {
    await requireOrgAdmin(this.deps.audit, call, 'user.create', { type: 'user', id: input.username });
    const { tenant } = call.caller;
    const now = new Date().toISOString();
    const user: UserRecord = { id: prefixedId('usr'), ...input, created_at: now, updated_at: now };
    const entry = this.deps.audit.entry(auditContext(call), 'user.create', { type: 'user', id: user.id });
    const json = JSON.stringify(user);
    const stored = await runIdentityScript(
      this.deps,
      'provisionScimUser',
      [this.deps.keys.users(tenant), this.deps.keys.usernames(tenant), this.deps.keys.scimUserNames(tenant)],
      call,
      [user.id, user.username, input.scim.name_key, json, JSON.stringify(entry), this.deps.audit.maxLen],
    );
    if (stored === 'conflict')
      throw new MnemoError('conflict', `A user with userName ${input.scim.userName} already exists`, {
        meta: { scimType: 'uniqueness' },
      });
    return { user, version: userVersion(json) };
  }

  /** One user with its version, or undefined. */
  async getVersioned(tenant: Tenant, userId: string): Promise<VersionedUser | undefined> {
    const raw = await this.deps.redis.hget(this.deps.keys.users(tenant), userId);
    return raw === null ? undefined : { user: JSON.parse(raw) as UserRecord, version: userVersion(raw) };
  }

  /** Every user of an organisation with its version, oldest first (SCIM lists filter these). */
  async allVersioned(tenant: Tenant): Promise<VersionedUser[]> {
    const rows = await this.deps.redis.hvals(this.deps.keys.users(tenant));
    return rows
      .map((raw) => ({ user: JSON.parse(raw) as UserRecord, version: userVersion(raw) }))
      .sort(
        (a, b) => a.user.created_at.localeCompare(b.user.created_at) || a.user.id.localeCompare(b.user.id),
      );
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
