import { fail, MnemoError } from '../errors.js';
import { prefixedId } from '../ids.js';
import type { Tenant } from '../tenant.js';
import { groupScope, parseScope } from '../memory/engrams/scopes.js';
import { auditContext, requireOrgAdmin, type AdminCall } from './admin-guard.js';
import {
  orgTag,
  runAccessChange,
  runIdentityScript,
  userTag,
  type IdentityDeps,
} from './identity-scripts.js';
import { isRole, type Role } from './roles.js';
import type { Membership } from './scope-access.js';

/**
 * Groups of an organisation and their members. A group's name is its path inside the organisation
 * (team, team/sub); its scope is group:<org>/<path>. Membership roles drive scope access
 * (scope-access.ts): a membership covers the group and everything below it.
 */
export interface GroupRecord {
  id: string;
  /** Path inside the organisation: team or team/sub. */
  name: string;
  scope: string;
  parent_id: string | null;
  /** Free text an admin keeps about the group (PATCH); absent on groups that never had one. */
  description?: string | null;
  created_at: string;
  /** Present for groups provisioned or changed through SCIM: the IdP's name and id for the group. */
  scim?: { displayName: string; externalId: string | null };
  updated_at?: string;
}

export interface GroupMember {
  user_id: string;
  role: Role;
}

export class GroupService {
  constructor(private readonly deps: IdentityDeps) {}

  async createGroup(
    call: AdminCall,
    input: { name: string; parentId: string | null; scim?: GroupRecord['scim'] },
  ): Promise<GroupRecord> {
    await requireOrgAdmin(this.deps.audit, call, 'group.create', { type: 'group', id: input.name });
    const { org, tenant } = call.caller;
    let path = groupPath(input.name, org);
    let parentId: string | null = null;
    if (input.parentId !== null) {
      const parent = await this.getGroup(tenant, input.parentId);
      if (!parent) throw fail.notFound('Parent group not found');
      path = `${parent.name}/${path}`;
      parentId = parent.id;
    } else if (path.includes('/')) {
      parentId = await this.deps.redis.hget(
        this.deps.keys.groupPaths(tenant),
        path.slice(0, path.lastIndexOf('/')),
      );
    }
    if (parseScope(groupScope(org, path), org) === undefined)
      throw fail.validation('The group path is too deep or too long');
    const group: GroupRecord = {
      id: prefixedId('grp'),
      name: path,
      scope: groupScope(org, path),
      parent_id: parentId,
      created_at: new Date().toISOString(),
      ...(input.scim ? { scim: input.scim } : {}),
    };
    const entry = this.deps.audit.entry(auditContext(call), 'group.create', { type: 'group', id: group.id });
    const stored = await runAccessChange(
      this.deps,
      'createGroup',
      [this.deps.keys.groups(tenant), this.deps.keys.groupPaths(tenant)],
      call,
      [group.id, path, JSON.stringify(group)],
      { tag: orgTag(org), audit: entry },
    );
    if (stored === 'conflict') throw fail.conflict(`A group ${path} already exists`);
    return group;
  }

  /** Changes a group's SCIM name and id; its path and scope stay (lua/updateGroup-3.lua). */
  async updateGroupScim(
    call: AdminCall,
    groupId: string,
    scim: NonNullable<GroupRecord['scim']>,
    auditPayload: Record<string, unknown> | null = null,
  ): Promise<GroupRecord> {
    await requireOrgAdmin(this.deps.audit, call, 'group.update', { type: 'group', id: groupId });
    const { tenant } = call.caller;
    const entry = this.deps.audit.entry(
      auditContext(call),
      'group.update',
      { type: 'group', id: groupId },
      'success',
      new Date(),
      auditPayload,
    );
    const result = await runIdentityScript(this.deps, 'updateGroup', [this.deps.keys.groups(tenant)], call, [
      groupId,
      JSON.stringify({ scim }),
      JSON.stringify(entry),
      this.deps.audit.maxLen,
    ]);
    if (result === 'not_found') throw fail.notFound('Group not found');
    return JSON.parse(result as string) as GroupRecord;
  }

  /**
   * Deletes a group with its memberships (SCIM DELETE): its members are removed first (each removal is its
   * own audited change with its event), then the empty group goes through the same script as the admin
   * API's DELETE. A group with subgroups is refused (409). Engrams in its scope stay.
   */
  async deleteGroupWithMembers(call: AdminCall, groupId: string): Promise<void> {
    await requireOrgAdmin(this.deps.audit, call, 'group.delete', { type: 'group', id: groupId });
    const { tenant } = call.caller;
    for (let attempt = 0; attempt < 3; attempt++) {
      const group = await this.getGroup(tenant, groupId);
      if (!group) throw fail.notFound('Group not found');
      const [members = {}] = await this.membersOfGroups(tenant, [groupId]);
      for (const userId of Object.keys(members)) {
        try {
          await this.removeMember(call, groupId, userId);
        } catch (err) {
          // Removed meanwhile by someone else: the goal is the same.
          if (!(err instanceof MnemoError && err.code === 'not_found')) throw err;
        }
      }
      try {
        await this.deleteGroup(call, groupId);
        return;
      } catch (err) {
        if (!(err instanceof MnemoError && err.code === 'conflict')) throw err;
        const paths = await this.groupPaths(tenant);
        if (paths.some((p) => p.startsWith(`${group.name}/`)))
          throw fail.conflict('The group has subgroups: delete them first');
        // A member was added meanwhile: remove again.
      }
    }
    throw fail.conflict('Members keep being added to the group; try again');
  }

  async getGroup(tenant: Tenant, groupId: string): Promise<GroupRecord | undefined> {
    const raw = await this.deps.redis.hget(this.deps.keys.groups(tenant), groupId);
    return raw === null ? undefined : (JSON.parse(raw) as GroupRecord);
  }

  async listGroups(call: AdminCall): Promise<(GroupRecord & { members: GroupMember[] })[]> {
    await requireOrgAdmin(this.deps.audit, call, 'group.list', { type: 'org', id: call.caller.org });
    const { org, tenant } = call.caller;
    await this.deps.audit.record(
      this.deps.audit.entry(auditContext(call), 'group.list', { type: 'org', id: org }),
    );
    const groups = (await this.deps.redis.hvals(this.deps.keys.groups(tenant)))
      .map((raw) => JSON.parse(raw) as GroupRecord)
      .sort((a, b) => a.name.localeCompare(b.name));
    const pipeline = this.deps.redis.pipeline();
    for (const group of groups) pipeline.hgetall(this.deps.keys.groupMembers(tenant, group.id));
    const replies = (await pipeline.exec()) ?? [];
    return groups.map((group, i) => {
      const members = (replies[i]?.[1] ?? {}) as Record<string, string>;
      return {
        ...group,
        members: Object.entries(members)
          .filter((entry): entry is [string, Role] => isRole(entry[1]))
          .map(([user_id, role]) => ({ user_id, role }))
          .sort((a, b) => a.user_id.localeCompare(b.user_id)),
      };
    });
  }

  /** One group with its members (admins); 404 for an id of another organisation. */
  async readGroup(call: AdminCall, groupId: string): Promise<GroupRecord & { members: GroupMember[] }> {
    await requireOrgAdmin(this.deps.audit, call, 'group.read', { type: 'group', id: groupId });
    const group = await this.getGroup(call.caller.tenant, groupId);
    if (!group) throw fail.notFound('Group not found');
    return { ...group, members: await this.membersOf(call.caller.tenant, groupId) };
  }

  /** The members of a group, ordered by user id (admins). */
  async listMembers(call: AdminCall, groupId: string): Promise<GroupMember[]> {
    await requireOrgAdmin(this.deps.audit, call, 'group.member_list', { type: 'group', id: groupId });
    if (!(await this.getGroup(call.caller.tenant, groupId))) throw fail.notFound('Group not found');
    return this.membersOf(call.caller.tenant, groupId);
  }

  async updateGroup(
    call: AdminCall,
    groupId: string,
    patch: { description: string | null },
  ): Promise<GroupRecord> {
    await requireOrgAdmin(this.deps.audit, call, 'group.update', { type: 'group', id: groupId });
    const { tenant } = call.caller;
    const entry = this.deps.audit.entry(auditContext(call), 'group.update', { type: 'group', id: groupId });
    const result = await runIdentityScript(this.deps, 'updateGroup', [this.deps.keys.groups(tenant)], call, [
      groupId,
      JSON.stringify(patch),
      JSON.stringify(entry),
      this.deps.audit.maxLen,
    ]);
    if (result === 'not_found') throw fail.notFound('Group not found');
    return JSON.parse(result as string) as GroupRecord;
  }

  /** Deletes an empty group (409 while it has members or subgroups); its engrams stay in its scope. */
  async deleteGroup(call: AdminCall, groupId: string): Promise<GroupRecord> {
    await requireOrgAdmin(this.deps.audit, call, 'group.delete', { type: 'group', id: groupId });
    const { org, tenant } = call.caller;
    const entry = this.deps.audit.entry(auditContext(call), 'group.delete', { type: 'group', id: groupId });
    const result = await runAccessChange(
      this.deps,
      'deleteGroup',
      [
        this.deps.keys.groups(tenant),
        this.deps.keys.groupPaths(tenant),
        this.deps.keys.groupMembers(tenant, groupId),
      ],
      call,
      [groupId],
      { tag: orgTag(org), audit: entry },
    );
    if (result === 'not_found') throw fail.notFound('Group not found');
    if (result === 'conflict') throw fail.conflict('Remove the members and subgroups of this group first');
    return JSON.parse(result as string) as GroupRecord;
  }

  private async membersOf(tenant: Tenant, groupId: string): Promise<GroupMember[]> {
    const members = await this.deps.redis.hgetall(this.deps.keys.groupMembers(tenant, groupId));
    return Object.entries(members)
      .filter((entry): entry is [string, Role] => isRole(entry[1]))
      .map(([user_id, role]) => ({ user_id, role }))
      .sort((a, b) => a.user_id.localeCompare(b.user_id));
  }

  /** Adds a member or changes a member's role; true when the user was not a member before. */
  async addMember(call: AdminCall, groupId: string, userId: string, role: Role): Promise<boolean> {
    await requireOrgAdmin(this.deps.audit, call, 'group.member_add', { type: 'group', id: groupId });
    const { org, tenant } = call.caller;
    const group = await this.getGroup(tenant, groupId);
    if (!group) throw fail.notFound('Group not found');
    const entry = this.deps.audit.entry(auditContext(call), 'group.member_add', {
      type: 'group',
      id: groupId,
    });
    const result = await runAccessChange(
      this.deps,
      'addMember',
      [
        this.deps.keys.groups(tenant),
        this.deps.keys.users(tenant),
        this.deps.keys.groupMembers(tenant, groupId),
        this.deps.keys.userGroups(tenant, userId),
      ],
      call,
      [
        groupId,
        userId,
        role,
        JSON.stringify({ group_id: groupId, user_id: userId, role, scope: group.scope }),
      ],
      { tag: userTag(org, userId), audit: entry },
    );
    if (result === 'not_found') throw fail.notFound('User not found');
    return result === 1;
  }

  async removeMember(call: AdminCall, groupId: string, userId: string): Promise<void> {
    await requireOrgAdmin(this.deps.audit, call, 'group.member_remove', { type: 'group', id: groupId });
    const { org, tenant } = call.caller;
    const group = await this.getGroup(tenant, groupId);
    if (!group) throw fail.notFound('Group not found');
    const entry = this.deps.audit.entry(auditContext(call), 'group.member_remove', {
      type: 'group',
      id: groupId,
    });
    const result = await runAccessChange(
      this.deps,
      'removeMember',
      [this.deps.keys.groupMembers(tenant, groupId), this.deps.keys.userGroups(tenant, userId)],
      call,
      [groupId, userId, JSON.stringify({ group_id: groupId, user_id: userId, scope: group.scope })],
      { tag: userTag(org, userId), audit: entry },
    );
    if (result === 'not_found') throw fail.notFound('The user is not a member of this group');
  }

  /** A user's memberships with their group paths (what scope resolution needs). */
  async membershipsOf(tenant: Tenant, userId: string): Promise<Membership[]> {
    const byGroup = await this.deps.redis.hgetall(this.deps.keys.userGroups(tenant, userId));
    const ids = Object.keys(byGroup);
    if (ids.length === 0) return [];
    const groups = await this.deps.redis.hmget(this.deps.keys.groups(tenant), ...ids);
    const out: Membership[] = [];
    ids.forEach((groupId, i) => {
      const raw = groups[i];
      const role = byGroup[groupId];
      if (raw && isRole(role)) out.push({ groupId, path: (JSON.parse(raw) as GroupRecord).name, role });
    });
    return out;
  }

  /** Every group of the organisation, oldest first. */
  async allGroups(tenant: Tenant): Promise<GroupRecord[]> {
    return (await this.deps.redis.hvals(this.deps.keys.groups(tenant)))
      .map((raw) => JSON.parse(raw) as GroupRecord)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  /** The members of each group (user id -> role), in the order asked. */
  async membersOfGroups(tenant: Tenant, groupIds: string[]): Promise<Record<string, string>[]> {
    if (groupIds.length === 0) return [];
    const pipeline = this.deps.redis.pipeline();
    for (const id of groupIds) pipeline.hgetall(this.deps.keys.groupMembers(tenant, id));
    const replies = (await pipeline.exec()) ?? [];
    return groupIds.map((_, i) => (replies[i]?.[1] ?? {}) as Record<string, string>);
  }

  /** The group ids of each user, in the order asked. */
  async groupIdsOfUsers(tenant: Tenant, userIds: string[]): Promise<string[][]> {
    if (userIds.length === 0) return [];
    const pipeline = this.deps.redis.pipeline();
    for (const id of userIds) pipeline.hkeys(this.deps.keys.userGroups(tenant, id));
    const replies = (await pipeline.exec()) ?? [];
    return userIds.map((_, i) => (replies[i]?.[1] ?? []) as string[]);
  }

  /** Every group path of the organisation. */
  groupPaths(tenant: Tenant): Promise<string[]> {
    return this.deps.redis.hkeys(this.deps.keys.groupPaths(tenant));
  }
}

/** A group name as given: `team`, `team/sub`, or a full `group:<org>/team` scope of this organisation. */
function groupPath(name: string, org: string): string {
  if (!name.startsWith('group:')) return name;
  const scope = parseScope(name, org);
  if (!scope || scope.kind !== 'group' || scope.org !== org)
    throw new MnemoError('validation', `body.name names a group of another organisation`);
  return scope.path;
}
