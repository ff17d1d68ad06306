import type { Tenant } from '../tenant.js';
import { fail } from '../errors.js';
import type { EngramCaller } from '../memory/engrams/access.js';
import { parseScope } from '../memory/engrams/scopes.js';
import type { Actor } from '../memory/events.js';
import { auditContext, requireOrgAdmin, type AdminCall } from './admin-guard.js';
import { runIdentityScript, type IdentityDeps } from './identity-scripts.js';

/**
 * Self-describing scopes (plur.md §1.2 scope_metadata; the open engram standard's scope layer): what a
 * scope is for, the topics it `covers` (the PLUR client routes writes by them), its sensitivity policy for
 * the client's write-time leak guard, when its engrams may be injected, and who owns it. Organisation
 * admins set it per scope; every caller sees, in /me, the metadata of the scopes it reads (and of no
 * others: a scope one cannot read is not described to one).
 *
 * Scopes that can carry metadata are the organisation's shared ones: global, org:<org>, group:<org>/...
 * (of an existing group) and project:<org>/.... Personal scopes cannot (no admin reads them); a scope of
 * another organisation answers 404, like anything else the caller may not see.
 */
export const SENSITIVITY_CATEGORIES = ['secrets', 'infra'] as const;
export const INJECTION_POLICIES = ['on_match', 'on_request', 'always'] as const;

export interface ScopeMetadata {
  scope: string;
  description: string;
  covers: string[];
  sensitivity?: { forbid: (typeof SENSITIVITY_CATEGORIES)[number][]; allow: string[] };
  injection_policy?: (typeof INJECTION_POLICIES)[number];
  owner?: string;
}

export type ScopeMetadataInput = Omit<ScopeMetadata, 'scope'>;

/** As stored and as admins list it: the metadata and who last set it when. */
export interface ScopeMetadataRecord extends ScopeMetadata {
  updated_at: string;
  updated_by: Actor;
}

export class ScopeMetadataService {
  constructor(private readonly deps: IdentityDeps) {}

  /** Sets (replaces) a scope's metadata; `created` when the scope had none. */
  async set(
    call: AdminCall,
    rawScope: string,
    input: ScopeMetadataInput,
  ): Promise<{ record: ScopeMetadataRecord; created: boolean }> {
    await requireOrgAdmin(this.deps.audit, call, 'scope.metadata_set', { type: 'scope', id: rawScope });
    const { org, tenant, actor } = call.caller;
    const { scope, groupPath } = describableScope(rawScope, org);
    const record: ScopeMetadataRecord = {
      scope,
      description: input.description,
      covers: input.covers,
      ...(input.sensitivity ? { sensitivity: input.sensitivity } : {}),
      ...(input.injection_policy ? { injection_policy: input.injection_policy } : {}),
      ...(input.owner !== undefined ? { owner: input.owner } : {}),
      updated_at: new Date().toISOString(),
      updated_by: { type: actor.type, id: actor.id },
    };
    const entry = this.deps.audit.entry(auditContext(call), 'scope.metadata_set', {
      type: 'scope',
      id: scope,
    });
    const result = await runIdentityScript(
      this.deps,
      'setScopeMetadata',
      [this.deps.keys.scopeMetadata(tenant), this.deps.keys.groupPaths(tenant)],
      call,
      [scope, groupPath, JSON.stringify(record), JSON.stringify(entry), this.deps.audit.maxLen],
    );
    if (result === 'not_found') throw fail.notFound(`Scope ${scope} not found: no such group`);
    return { record, created: result === 1 };
  }

  async remove(call: AdminCall, rawScope: string): Promise<string> {
    await requireOrgAdmin(this.deps.audit, call, 'scope.metadata_delete', { type: 'scope', id: rawScope });
    const { org, tenant } = call.caller;
    const { scope } = describableScope(rawScope, org);
    const entry = this.deps.audit.entry(auditContext(call), 'scope.metadata_delete', {
      type: 'scope',
      id: scope,
    });
    const result = await runIdentityScript(
      this.deps,
      'deleteScopeMetadata',
      [this.deps.keys.scopeMetadata(tenant)],
      call,
      [scope, JSON.stringify({ scope }), JSON.stringify(entry), this.deps.audit.maxLen],
    );
    if (result === 'not_found') throw fail.notFound(`Scope ${scope} has no metadata`);
    return scope;
  }

  /** Every scope metadata record of the organisation, by scope (admins; the read is audited). */
  async list(call: AdminCall): Promise<ScopeMetadataRecord[]> {
    await requireOrgAdmin(this.deps.audit, call, 'scope.metadata_list', { type: 'org', id: call.caller.org });
    await this.deps.audit.record(
      this.deps.audit.entry(auditContext(call), 'scope.metadata_list', { type: 'org', id: call.caller.org }),
    );
    return this.records(call.caller.tenant);
  }

  /** The metadata of the scopes `caller` reads, without the bookkeeping (what /me shows). */
  async readableBy(caller: Pick<EngramCaller, 'tenant' | 'access'>): Promise<ScopeMetadata[]> {
    return (await this.records(caller.tenant))
      .filter((record) => caller.access.canRead(record.scope))
      .map(({ updated_at: _at, updated_by: _by, ...metadata }) => metadata);
  }

  private async records(tenant: Tenant): Promise<ScopeMetadataRecord[]> {
    const raw = await this.deps.redis.hvals(this.deps.keys.scopeMetadata(tenant));
    return raw
      .map((json) => JSON.parse(json) as ScopeMetadataRecord)
      .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  }
}

/**
 * The canonical scope a metadata call names, and its group path when it is a group scope (which must
 * exist). Short forms name the caller's organisation (group:platform).
 */
function describableScope(raw: string, org: string): { scope: string; groupPath: string } {
  const scope = parseScope(raw, org);
  if (!scope)
    throw fail.validation(
      'path.scope must be global, org:<org>, group:<org>/<path> or project:<org>/<path> (percent-encoded)',
    );
  if (scope.kind === 'user') throw fail.validation('Personal scopes carry no metadata');
  if (scope.org !== null && scope.org !== org) throw fail.notFound(`Scope ${scope.text} not found`);
  return { scope: scope.text, groupPath: scope.kind === 'group' ? scope.path : '' };
}
