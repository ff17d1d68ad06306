import { fail } from '../errors.js';
import { prefixedId, randomHex } from '../ids.js';
import type { Logger } from '../log.js';
import type { AuditLog } from '../memory/audit/audit-log.js';
import type { ScopeAccess } from '../memory/engrams/access.js';
import type { EventLog } from '../memory/event-log.js';
import type { RedisClient } from '../redis/clients.js';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import { orgTenant } from '../tenant.js';
import { auditContext, requireOrgAdmin, type AdminCall } from './admin-guard.js';
import { CredentialCache } from './credential-cache.js';
import { CredentialRecords } from './credential-records.js';
import type { Invalidatable } from './invalidation.js';
import type { Authenticated, ScimPrincipal } from './principal.js';
import { sha256Hex } from './secrets.js';

/**
 * SCIM bearer tokens: `plur_scim_<48 hex>`, one per IdP connection of an organisation, minted by its admins
 * (POST /api/v1/admin/scim/tokens), shown once, stored only as SHA-256 under `{~auth}` and found by that hash
 * in one lookup. A token acts as the organisation's SCIM provisioner on /scim/v2 and nowhere else (the
 * route's `auth: 'scim'` takes nothing but these; every other route refuses them). Revocation flips the
 * record and publishes `scim:<hash>` in one script, so every instance stops accepting it at once.
 */
export const SCIM_TOKEN_PATTERN = /^plur_scim_[0-9a-f]{48}$/;
export const scimTokenTag = (hash: string): string => `scim:${hash}`;

export interface ScimTokenRecord {
  id: string;
  org: string;
  label: string | null;
  token_prefix: string;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  revoked_at: string | null;
  active: boolean;
}

export interface ScimTokenSettings {
  rpm: number;
  cacheTtlMs: number;
}

const INVALID_TOKEN = 'Invalid or revoked SCIM token';

/** A SCIM token reads no memory: it administers identities only. */
const noScopes = (org: string): ScopeAccess => ({
  org,
  ownScope: null,
  readableScopes: [],
  canRead: () => false,
  canWrite: () => false,
  canPin: () => false,
});

export class ScimTokenService {
  private readonly cache: CredentialCache<{ principal: ScimPrincipal; tags: readonly string[] }>;
  private readonly records: CredentialRecords<ScimTokenRecord>;
  readonly invalidation: Invalidatable;

  constructor(
    redis: RedisClient,
    scripts: Scripts,
    keys: Keys,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly settings: ScimTokenSettings,
    log: Logger,
  ) {
    this.cache = new CredentialCache(settings.cacheTtlMs);
    this.records = new CredentialRecords(
      redis,
      scripts,
      keys.credentialKeyspace('scim'),
      toRecord,
      keys.credentialInvalidationChannel(),
      (err) => log.debug({ err }, 'could not record SCIM token use'),
    );
    this.invalidation = {
      invalidate: (tag) => this.cache.invalidate(tag),
      clear: () => this.cache.clear(),
    };
  }

  async issue(call: AdminCall, label: string | null): Promise<{ token: string; record: ScimTokenRecord }> {
    await requireOrgAdmin(this.audit, call, 'scim.token_issue', { type: 'org', id: call.caller.org });
    const { org, actor } = call.caller;
    const token = `plur_scim_${randomHex(24)}`;
    const hash = sha256Hex(token);
    const now = new Date();
    const record: ScimTokenRecord = {
      id: prefixedId('scim'),
      org,
      label,
      token_prefix: `${token.slice(0, 16)}...`,
      created_at: now.toISOString(),
      created_by: actor.id,
      last_used_at: null,
      revoked_at: null,
      active: true,
    };
    await this.records.store(hash, record.id, org, now, {
      token_id: record.id,
      org,
      label: label ?? '',
      created_at: record.created_at,
      token_prefix: record.token_prefix,
      created_by: actor.id,
    });
    await this.audit.record(
      this.audit.entry(auditContext(call), 'scim.token_issue', { type: 'scim_token', id: record.id }),
    );
    await this.announce(call, 'scim_token.issued', record);
    return { token, record };
  }

  async list(call: AdminCall): Promise<ScimTokenRecord[]> {
    await requireOrgAdmin(this.audit, call, 'scim.token_list', { type: 'org', id: call.caller.org });
    const { org } = call.caller;
    await this.audit.record(
      this.audit.entry(auditContext(call), 'scim.token_list', { type: 'org', id: org }),
    );
    return (await this.records.ofOwner(org)).filter((record) => record.org === org);
  }

  /** Revokes a token of the caller's organisation; false when there is no such token there. */
  async revoke(call: AdminCall, tokenId: string): Promise<boolean> {
    await requireOrgAdmin(this.audit, call, 'scim.token_revoke', { type: 'scim_token', id: tokenId });
    const { org } = call.caller;
    const revoked = await this.records.revoke({
      id: tokenId,
      owner: { field: 'org', value: org },
      tag: scimTokenTag,
    });
    if (revoked.outcome === 'unknown') return false;
    this.cache.invalidate(scimTokenTag(revoked.hash));
    if (revoked.outcome === 'revoked') {
      await this.audit.record(
        this.audit.entry(auditContext(call), 'scim.token_revoke', { type: 'scim_token', id: tokenId }),
      );
      const record = await this.records.byHash(revoked.hash);
      if (record) await this.announce(call, 'scim_token.revoked', record);
    }
    return true;
  }

  /** The principal of a presented SCIM token (cached per instance, dropped on revocation everywhere). */
  async authenticate(token: string): Promise<Authenticated<ScimPrincipal>> {
    if (!SCIM_TOKEN_PATTERN.test(token)) throw fail.unauthorized(INVALID_TOKEN);
    const hash = sha256Hex(token);
    let entry = this.cache.get(hash);
    if (!entry) {
      const epoch = this.cache.epoch;
      const record = await this.records.byHash(hash);
      if (!record || !record.active) throw fail.unauthorized(INVALID_TOKEN);
      entry = { principal: principalOf(record, hash), tags: [scimTokenTag(hash)] };
      this.cache.set(hash, entry, epoch);
    }
    this.records.touch(hash);
    const { principal } = entry;
    return { principal, rate: { credentialId: principal.credentialId, rpm: this.settings.rpm } };
  }

  /** Token events carry no secret: id, label, times. */
  private async announce(call: AdminCall, type: string, record: ScimTokenRecord): Promise<void> {
    const { token_prefix: _prefix, ...data } = record;
    await this.events.append(call.caller.tenant, call.caller.actor, [{ type, data }]);
  }
}

function principalOf(record: ScimTokenRecord, hash: string): ScimPrincipal {
  return {
    kind: 'scim',
    org: record.org,
    tenant: orgTenant(record.org),
    tokenId: record.id,
    userId: null,
    // The SCIM provisioner administers the organisation's users and groups (plur.md §1.10).
    isOrgAdmin: true,
    actor: { type: 'scim', id: record.id },
    access: noScopes(record.org),
    credentialId: `scim:${record.id}`,
    invalidationTags: [scimTokenTag(hash)],
  };
}

function toRecord(row: Record<string, string> | null | undefined): ScimTokenRecord | undefined {
  if (!row || row.token_id === undefined) return undefined;
  return {
    id: row.token_id,
    org: row.org ?? '',
    label: row.label ? row.label : null,
    token_prefix: row.token_prefix ?? '',
    created_at: row.created_at ?? '',
    created_by: row.created_by ?? '',
    last_used_at: row.last_used_at ? row.last_used_at : null,
    revoked_at: row.revoked_at ? row.revoked_at : null,
    active: row.is_active === '1',
  };
}
