import type { GroupRecord, GroupService } from '../auth/groups.js';
import type { UserRecord, UserService } from '../auth/users.js';
import { MnemoError } from '../errors.js';
import type { Tenant } from '../tenant.js';
import type { Json } from './filter-eval.js';
import {
  groupPathFor,
  groupVersion,
  parseScimGroup,
  toScimGroup,
  type MemberRef,
  type ScimGroupInput,
} from './group-resource.js';
import { listPage, listResponse, project, type ListQuery } from './list.js';
import { applyPatch, type PatchOperation } from './patch.js';
import { GROUP_NAMES } from './schema-names.js';
import { scimFail } from './scim-errors.js';
import type { ScimCall } from './scim-users.js';

/**
 * SCIM Groups over mnemo's groups and memberships. Renames go through lua/updateGroup-3.lua; each member
 * added or removed is one addMember-6 / removeMember-4 script (atomic, audited, announced, and it drops the
 * member's cached permissions everywhere), so a PATCH of many members is applied member by member and a
 * retried PATCH converges on the same state.
 */
export const SCIM_MEMBER_ROLE = 'viewer';

interface LiveGroup {
  group: GroupRecord;
  memberIds: string[];
  version: string;
}

export class ScimGroupService {
  constructor(
    private readonly groups: GroupService,
    private readonly users: UserService,
  ) {}

  async list(call: ScimCall, query: ListQuery): Promise<Json> {
    const { tenant } = call.caller;
    const groups = await this.groups.allGroups(tenant);
    const members = await this.groups.membersOfGroups(
      tenant,
      groups.map((g) => g.id),
    );
    const names = await this.userNames(tenant);
    const resources = groups.map((g, i) =>
      toScimGroup(g, refs(Object.keys(members[i] ?? {}), names), call.base),
    );
    return listResponse(listPage(resources, query));
  }

  async get(call: ScimCall, id: string, query: ListQuery): Promise<Json> {
    return project(await this.resource(call, await this.live(call.caller.tenant, id)), query);
  }

  async create(call: ScimCall, body: unknown): Promise<Json> {
    const input = parseScimGroup(body);
    const members = input.members ?? [];
    await this.requireUsers(call.caller.tenant, members);
    let group: GroupRecord;
    try {
      group = await this.groups.createGroup(call, {
        name: groupPathFor(input.displayName),
        parentId: null,
        scim: { displayName: input.displayName, externalId: input.externalId },
      });
    } catch (err) {
      if (err instanceof MnemoError && err.code === 'conflict')
        throw scimFail.uniqueness(`A group named like ${input.displayName} already exists`);
      throw err;
    }
    for (const userId of members) await this.groups.addMember(call, group.id, userId, SCIM_MEMBER_ROLE);
    return this.resource(call, await this.live(call.caller.tenant, group.id));
  }

  async replace(call: ScimCall, id: string, body: unknown): Promise<Json> {
    const current = await this.live(call.caller.tenant, id);
    this.checkVersion(call, current);
    return this.store(call, current, parseScimGroup(body), 'put');
  }

  async patch(call: ScimCall, id: string, operations: PatchOperation[]): Promise<Json> {
    const current = await this.live(call.caller.tenant, id);
    this.checkVersion(call, current);
    const before = toScimGroup(
      current.group,
      current.memberIds.map((value) => ({ value, display: value })),
      call.base,
    );
    const after = applyPatch(before, operations, GROUP_NAMES);
    return this.store(call, current, parseScimGroup(after), 'patch');
  }

  async delete(call: ScimCall, id: string): Promise<void> {
    const current = await this.live(call.caller.tenant, id);
    this.checkVersion(call, current);
    await this.groups.deleteGroupWithMembers(call, id);
  }

  private async store(call: ScimCall, current: LiveGroup, input: ScimGroupInput, how: string): Promise<Json> {
    const { tenant } = call.caller;
    const { group } = current;
    const wanted = input.members;
    const added = wanted === null ? [] : wanted.filter((u) => !current.memberIds.includes(u));
    const removed = wanted === null ? [] : current.memberIds.filter((u) => !wanted.includes(u));
    await this.requireUsers(tenant, added);
    const scim = { displayName: input.displayName, externalId: input.externalId };
    const oldScim = group.scim ?? { displayName: group.name, externalId: null };
    if (scim.displayName !== oldScim.displayName || scim.externalId !== oldScim.externalId)
      await this.groups.updateGroupScim(call, group.id, scim, {
        scim: how,
        fields: ['displayName', 'externalId'],
      });
    for (const userId of added) await this.groups.addMember(call, group.id, userId, SCIM_MEMBER_ROLE);
    for (const userId of removed) {
      try {
        await this.groups.removeMember(call, group.id, userId);
      } catch (err) {
        if (!(err instanceof MnemoError && err.code === 'not_found')) throw err;
      }
    }
    return this.resource(call, await this.live(tenant, group.id));
  }

  private checkVersion(call: ScimCall, current: LiveGroup): void {
    if (call.ifMatch !== undefined && call.ifMatch !== '*' && call.ifMatch !== current.version)
      throw scimFail.versionMismatch();
  }

  private async live(tenant: Tenant, id: string): Promise<LiveGroup> {
    const group = await this.groups.getGroup(tenant, id);
    if (!group) throw scimFail.notFound(`Group ${id} not found`);
    const [members = {}] = await this.groups.membersOfGroups(tenant, [id]);
    const memberIds = Object.keys(members).sort();
    return { group, memberIds, version: groupVersion(group, memberIds) };
  }

  private async resource(call: ScimCall, live: LiveGroup): Promise<Json> {
    const names = await this.userNames(call.caller.tenant);
    return toScimGroup(live.group, refs(live.memberIds, names), call.base);
  }

  /** Every member named must be a user of the organisation that SCIM sees (400 otherwise, nothing changed). */
  private async requireUsers(tenant: Tenant, ids: string[]): Promise<void> {
    for (const id of ids) {
      const found = await this.users.getUser(tenant, id);
      if (!found || found.scim?.deleted === true) throw scimFail.invalidValue(`members: no user ${id}`);
    }
  }

  private async userNames(tenant: Tenant): Promise<Map<string, string>> {
    const all = await this.users.allVersioned(tenant);
    return new Map(all.map(({ user }) => [user.id, displayOf(user)]));
  }
}

const displayOf = (user: UserRecord): string => user.display_name ?? user.scim?.userName ?? user.username;

function refs(ids: string[], names: Map<string, string>): MemberRef[] {
  return [...ids].sort().map((value) => ({ value, display: names.get(value) ?? value }));
}
