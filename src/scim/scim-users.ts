import type { AdminCall } from '../auth/admin-guard.js';
import type { GroupService } from '../auth/groups.js';
import type { ScimUserAttributes, UserPatch, UserRecord, UserService, VersionedUser } from '../auth/users.js';
import type { Tenant } from '../tenant.js';
import type { Json } from './filter-eval.js';
import { displayNameOf } from './group-resource.js';
import { listPage, listResponse, project, type ListQuery } from './list.js';
import { applyPatch, type PatchOperation } from './patch.js';
import { USER_NAMES } from './schema-names.js';
import { scimFail } from './scim-errors.js';
import {
  parseScimUser,
  primaryEmail,
  scimAttributes,
  toScimUser,
  usernameFor,
  type GroupRef,
  type ScimUserInput,
} from './user-resource.js';

/**
 * SCIM Users over mnemo's users (RFC 7644 §3). Every change goes through UserService: provisioning
 * (provisionScimUser) and the one change path (changeUser -> lua/updateUser-5.lua), so deactivation by
 * SCIM (`active: false`, or DELETE) is the same cut-off as the admin API's: the user's keys stop on every
 * instance at once and their engrams stay. DELETE also removes the user from SCIM (later requests 404)
 * and frees its userName; the mnemo user stays, deactivated, in the admin API.
 */
export interface ScimCall extends AdminCall {
  /** Absolute base URL of /scim/v2 for `meta.location` and `$ref`. */
  base: string;
  /** The version an If-Match header names (W/"…" stripped), if any. */
  ifMatch?: string | undefined;
}

/** Role of users provisioned through SCIM; admins raise it through the admin API. */
export const SCIM_USER_ROLE = 'viewer';

export class ScimUserService {
  constructor(
    private readonly users: UserService,
    private readonly groups: GroupService,
  ) {}

  async list(call: ScimCall, query: ListQuery): Promise<Json> {
    const { tenant } = call.caller;
    const all = (await this.users.allVersioned(tenant)).filter((v) => !isDeleted(v.user));
    const refs = await this.groupRefs(
      tenant,
      all.map((v) => v.user.id),
    );
    const resources = all.map((v, i) => toScimUser(v.user, v.version, refs[i] ?? [], call.base));
    return listResponse(listPage(resources, query));
  }

  async get(call: ScimCall, id: string, query: ListQuery): Promise<Json> {
    return project(await this.resource(call, await this.live(call.caller.tenant, id)), query);
  }

  async create(call: ScimCall, body: unknown): Promise<Json> {
    const input = parseScimUser(body);
    const created = await this.users.provisionScimUser(call, {
      username: usernameFor(input.userName),
      email: primaryEmail(input.emails),
      display_name: input.displayName,
      role: SCIM_USER_ROLE,
      active: input.active,
      scim: scimAttributes(input),
    });
    return toScimUser(created.user, created.version, [], call.base);
  }

  /** PUT: the body is the whole resource. */
  async replace(call: ScimCall, id: string, body: unknown): Promise<Json> {
    const current = await this.live(call.caller.tenant, id);
    this.checkVersion(call, current);
    return this.store(call, current, parseScimUser(body), 'put');
  }

  async patch(call: ScimCall, id: string, operations: PatchOperation[]): Promise<Json> {
    const current = await this.live(call.caller.tenant, id);
    this.checkVersion(call, current);
    const before = toScimUser(current.user, current.version, [], call.base);
    const after = applyPatch(before, operations, USER_NAMES);
    return this.store(call, current, parseScimUser(after), 'patch');
  }

  /** DELETE: deactivates the user (credentials stop at once, engrams stay) and removes it from SCIM. */
  async delete(call: ScimCall, id: string): Promise<void> {
    const current = await this.live(call.caller.tenant, id);
    this.checkVersion(call, current);
    const scim = current.user.scim ?? fromRecord(current.user);
    await this.users.changeUser(
      call,
      id,
      { active: false, scim: { ...scim, deleted: true } },
      { ifVersion: current.version, scimNameKey: 'release', auditPayload: { scim: 'delete' } },
    );
  }

  private async store(
    call: ScimCall,
    current: VersionedUser,
    input: ScimUserInput,
    how: string,
  ): Promise<Json> {
    const attributes = scimAttributes(input);
    const patch: UserPatch = {
      scim: attributes,
      display_name: input.displayName,
      email: primaryEmail(input.emails),
      active: input.active,
    };
    const changed = await this.users.changeUser(call, current.user.id, patch, {
      // Compared again inside the script: a change between this read and the write is a 412, not lost.
      ifVersion: current.version,
      scimNameKey: { set: attributes.name_key },
      auditPayload: { scim: how, fields: changedFields(current.user, patch) },
    });
    return this.resource(call, changed);
  }

  private checkVersion(call: ScimCall, current: VersionedUser): void {
    if (call.ifMatch !== undefined && call.ifMatch !== '*' && call.ifMatch !== current.version)
      throw scimFail.versionMismatch();
  }

  private async live(tenant: Tenant, id: string): Promise<VersionedUser> {
    const found = await this.users.getVersioned(tenant, id);
    if (!found || isDeleted(found.user)) throw scimFail.notFound(`User ${id} not found`);
    return found;
  }

  private async resource(call: ScimCall, v: VersionedUser): Promise<Json> {
    const [refs] = await this.groupRefs(call.caller.tenant, [v.user.id]);
    return toScimUser(v.user, v.version, refs ?? [], call.base);
  }

  private async groupRefs(tenant: Tenant, userIds: string[]): Promise<GroupRef[][]> {
    if (userIds.length === 0) return [];
    const [groups, idsByUser] = await Promise.all([
      this.groups.allGroups(tenant),
      this.groups.groupIdsOfUsers(tenant, userIds),
    ]);
    const byId = new Map(groups.map((g) => [g.id, g]));
    return idsByUser.map((ids) =>
      ids
        .map((id) => byId.get(id))
        .filter((g) => g !== undefined)
        .map((g) => ({ value: g.id, display: displayNameOf(g) })),
    );
  }
}

const isDeleted = (user: UserRecord): boolean => user.scim?.deleted === true;

/** The SCIM attributes of a user created through the admin API (no `scim` part yet). */
function fromRecord(user: UserRecord): ScimUserAttributes {
  return scimAttributes({
    userName: user.username,
    externalId: null,
    name: null,
    displayName: user.display_name,
    emails: null,
    active: user.active,
    enterprise: null,
  });
}

function changedFields(user: UserRecord, patch: UserPatch): string[] {
  const fields: string[] = [];
  if (patch.active !== user.active) fields.push('active');
  if (patch.display_name !== user.display_name) fields.push('displayName');
  if (patch.email !== user.email) fields.push('emails');
  const before = user.scim ?? fromRecord(user);
  const after = patch.scim as ScimUserAttributes;
  if (before.userName !== after.userName) fields.push('userName');
  if (before.externalId !== after.externalId) fields.push('externalId');
  if (JSON.stringify(before.name) !== JSON.stringify(after.name)) fields.push('name');
  if (JSON.stringify(before.enterprise) !== JSON.stringify(after.enterprise)) fields.push('enterprise');
  return fields;
}
