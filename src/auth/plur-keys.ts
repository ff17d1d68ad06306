import { fail } from '../errors.js';
import { prefixedId, randomHex } from '../ids.js';
import type { Logger } from '../log.js';
import type { AuditLog } from '../memory/audit/audit-log.js';
import type { EventLog } from '../memory/event-log.js';
import type { RedisClient } from '../redis/clients.js';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import { auditContext, requireOrgAdmin, type AdminCall } from './admin-guard.js';
import { CredentialRecords } from './credential-records.js';
import type { UserService } from './users.js';
import { sha256Hex } from './secrets.js';

/**
 * Engram-API keys: `plur_sk_<48 hex>`, issued to one user of one organisation, stored only as SHA-256 under
 * `{~auth}` and found by that hash in one lookup. Revocation flips the record and publishes `plur:<hash>` in
 * one script, so every instance stops accepting the key at once. Key records live in the global auth slot
 * and the audit trail in the organisation's, so the audit entry of an issue or revoke follows the change
 * (it is never written for a change that did not happen).
 */
export const PLUR_KEY_PATTERN = /^plur_sk_[0-9a-f]{48}$/;
export const plurKeyTag = (hash: string): string => `plur:${hash}`;

export interface PlurKeyRecord {
  id: string;
  org: string;
  user_id: string;
  label: string | null;
  key_prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  active: boolean;
  /** Whether the key carries its user's personal scope (only keys the user minted, or an admin for self). */
  personal: boolean;
}

export class PlurKeyService {
  private readonly records: CredentialRecords<PlurKeyRecord>;

  constructor(
    redis: RedisClient,
    scripts: Scripts,
    keys: Keys,
    private readonly users: UserService,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly invalidateLocal: (tag: string) => void,
    log: Logger,
  ) {
    this.records = new CredentialRecords(
      redis,
      scripts,
      keys.credentialKeyspace('plur'),
      toRecord,
      keys.credentialInvalidationChannel(),
      (err) => log.debug({ err }, 'could not record key use'),
    );
  }

  /**
   * An organisation admin issues a key for a user. A key for someone else never carries that user's
   * personal scope (personal scopes are never shared, not even with admins): the user mints their own
   * personal keys (OwnKeyService). A key for yourself carries it when the credential you use does.
   */
  async issue(
    call: AdminCall,
    input: { userId: string; label: string | null; expiresAt: string | null },
  ): Promise<{ key: string; record: PlurKeyRecord }> {
    await requireOrgAdmin(this.audit, call, 'apikey.issue', { type: 'user', id: input.userId });
    const { caller } = call;
    const personal = input.userId === caller.userId && caller.access.ownScope !== null;
    return this.mint(call, input.userId, { label: input.label, expiresAt: input.expiresAt, personal });
  }

  /** Stores a new key for an active user of the caller's organisation; audited and announced. */
  async mint(
    call: AdminCall,
    userId: string,
    input: { label: string | null; expiresAt: string | null; personal: boolean },
  ): Promise<{ key: string; record: PlurKeyRecord }> {
    const { org, tenant } = call.caller;
    if (input.expiresAt !== null && !(Date.parse(input.expiresAt) > Date.now()))
      throw fail.validation('body.expires_at must be in the future');
    const user = await this.users.getUser(tenant, userId);
    if (!user) throw fail.notFound('User not found');
    if (!user.active) throw fail.unprocessable('The user is deactivated');
    const key = `plur_sk_${randomHex(24)}`;
    const hash = sha256Hex(key);
    const now = new Date();
    const record: PlurKeyRecord = {
      id: prefixedId('key'),
      org,
      user_id: user.id,
      label: input.label,
      key_prefix: `${key.slice(0, 14)}...`,
      created_at: now.toISOString(),
      expires_at: input.expiresAt,
      last_used_at: null,
      revoked_at: null,
      active: true,
      personal: input.personal,
    };
    await this.records.store(hash, record.id, org, now, {
      key_id: record.id,
      org,
      user_id: user.id,
      label: record.label ?? '',
      created_at: record.created_at,
      expires_at: record.expires_at ?? '',
      key_prefix: record.key_prefix,
      personal: record.personal ? '1' : '0',
    });
    await this.audit.record(
      this.audit.entry(auditContext(call), 'apikey.issue', { type: 'apikey', id: record.id }),
    );
    await this.announce(call, 'apikey.issued', record);
    return { key, record };
  }

  /** Keys of the caller's organisation, newest first (never the key or its hash). */
  async list(call: AdminCall): Promise<PlurKeyRecord[]> {
    await requireOrgAdmin(this.audit, call, 'apikey.list', { type: 'org', id: call.caller.org });
    await this.audit.record(
      this.audit.entry(auditContext(call), 'apikey.list', { type: 'org', id: call.caller.org }),
    );
    return this.recordsOf(call.caller.org);
  }

  /** Every key record of an organisation, newest first. */
  async recordsOf(org: string): Promise<PlurKeyRecord[]> {
    return (await this.records.ofOwner(org)).filter((record) => record.org === org);
  }

  /** Revokes a key of the caller's organisation; false when there is no such key there. */
  async revoke(call: AdminCall, keyId: string): Promise<boolean> {
    await requireOrgAdmin(this.audit, call, 'apikey.revoke', { type: 'apikey', id: keyId });
    return (await this.revokeWhere(call, keyId, () => true)) !== 'unknown';
  }

  /**
   * Revokes a key of the caller's organisation that `allowed` accepts: 'revoked' (now), 'already' (it was
   * revoked before), or 'unknown' (no such key there, or `allowed` refused it: callers answer 404).
   */
  async revokeWhere(
    call: AdminCall,
    keyId: string,
    allowed: (record: PlurKeyRecord) => boolean,
  ): Promise<'revoked' | 'already' | 'unknown'> {
    const { org } = call.caller;
    const revoked = await this.records.revoke({
      id: keyId,
      owner: { field: 'org', value: org },
      allowed: (record) => record.org === org && allowed(record),
      tag: plurKeyTag,
    });
    if (revoked.outcome === 'unknown') return 'unknown';
    this.invalidateLocal(plurKeyTag(revoked.hash));
    if (revoked.outcome === 'revoked') {
      await this.audit.record(
        this.audit.entry(auditContext(call), 'apikey.revoke', { type: 'apikey', id: keyId }),
      );
      const record = await this.records.byHash(revoked.hash);
      if (record) await this.announce(call, 'apikey.revoked', record);
    }
    return revoked.outcome;
  }

  /** The record of a presented key's hash (one lookup), or undefined. */
  async lookup(hash: string): Promise<PlurKeyRecord | undefined> {
    return this.records.byHash(hash);
  }

  /** Records last use, at most once a minute per key on this instance, off the request path. */
  touch(hash: string): void {
    this.records.touch(hash);
  }

  /** Key events carry no secret: id, user, label, times. */
  private async announce(call: AdminCall, type: string, record: PlurKeyRecord): Promise<void> {
    const { key_prefix: _prefix, ...data } = record;
    await this.events.append(call.caller.tenant, call.caller.actor, [{ type, data }]);
  }
}

function toRecord(row: Record<string, string> | null | undefined): PlurKeyRecord | undefined {
  if (!row || row.key_id === undefined) return undefined;
  return {
    id: row.key_id,
    org: row.org ?? '',
    user_id: row.user_id ?? '',
    label: row.label ? row.label : null,
    key_prefix: row.key_prefix ?? '',
    created_at: row.created_at ?? '',
    expires_at: row.expires_at ? row.expires_at : null,
    last_used_at: row.last_used_at ? row.last_used_at : null,
    revoked_at: row.revoked_at ? row.revoked_at : null,
    active: row.is_active === '1',
    // Records written before keys had this field were all issued by an admin: no personal scope.
    personal: row.personal === '1',
  };
}
