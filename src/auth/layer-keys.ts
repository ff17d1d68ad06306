import { credentialRefused } from './credential-errors.js';
import { prefixedId, randomHex } from '../ids.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/clients.js';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import { CredentialCache } from './credential-cache.js';
import { CredentialRecords } from './credential-records.js';
import type { Authenticated, LayerKeyPrincipal } from './principal.js';
import { sha256Hex } from './secrets.js';
import { layerTenant } from '../tenant.js';

/**
 * Layer-API keys: `plm_live_<48 hex>` / `plm_test_<48 hex>`, bound to one workspace, stored only as SHA-256
 * and found by that hash in one lookup. Verified keys are cached per instance; revocation is atomic with
 * an invalidation message, so every instance stops accepting the key at once.
 */
export const LAYER_KEY_PATTERN = /^plm_(live|test)_[0-9a-f]{48}$/;

export type KeyEnv = 'live' | 'test';

export interface LayerKeyRecord {
  key_id: string;
  workspace_id: string;
  label: string | null;
  env: KeyEnv;
  key_prefix: string;
  rate_limit_rpm: number | null;
  created_at: string;
  last_used_at: string | null;
  is_active: boolean;
}

export interface CreatedLayerKey {
  key: string;
  record: LayerKeyRecord;
}

interface CachedKey {
  principal: LayerKeyPrincipal;
  tags: readonly string[];
}

export class LayerKeyService {
  readonly cache: CredentialCache<CachedKey>;
  private readonly records: CredentialRecords<LayerKeyRecord>;

  constructor(
    redis: RedisClient,
    scripts: Scripts,
    keys: Keys,
    private readonly defaultRpm: number,
    cacheTtlMs: number,
    log: Logger,
  ) {
    this.cache = new CredentialCache(cacheTtlMs);
    this.records = new CredentialRecords(
      redis,
      scripts,
      keys.credentialKeyspace('layer'),
      toRecord,
      keys.credentialInvalidationChannel(),
      (err) => log.debug({ err }, 'could not record key use'),
    );
  }

  async create(input: {
    workspaceId: string;
    label?: string | null;
    env: KeyEnv;
    rateLimitRpm?: number | null;
  }): Promise<CreatedLayerKey> {
    const key = `plm_${input.env}_${randomHex(24)}`;
    const hash = sha256Hex(key);
    const keyId = prefixedId('key');
    const now = new Date();
    const record: LayerKeyRecord = {
      key_id: keyId,
      workspace_id: input.workspaceId,
      label: input.label ?? null,
      env: input.env,
      key_prefix: `${key.slice(0, 16)}...`,
      rate_limit_rpm: input.rateLimitRpm ?? null,
      created_at: now.toISOString(),
      last_used_at: null,
      is_active: true,
    };
    await this.records.store(hash, keyId, record.workspace_id, now, {
      key_id: keyId,
      workspace_id: record.workspace_id,
      label: record.label ?? '',
      env: record.env,
      rate_limit_rpm: record.rate_limit_rpm === null ? '' : String(record.rate_limit_rpm),
      created_at: record.created_at,
      key_prefix: record.key_prefix,
    });
    return { key, record };
  }

  /** Keys of a workspace, newest first. */
  async list(workspaceId: string): Promise<LayerKeyRecord[]> {
    return this.records.ofOwner(workspaceId);
  }

  /** Revokes a key; false when the id is unknown. Revoking twice is not an error. */
  async revoke(keyId: string): Promise<boolean> {
    const revoked = await this.records.revoke({ id: keyId, tag: (hash) => `layer:${hash}` });
    if (revoked.outcome === 'unknown') return false;
    // This instance drops the key even if its subscriber is momentarily behind.
    this.cache.invalidate(`layer:${revoked.hash}`);
    return true;
  }

  /** Resolves a bearer token to its principal; throws 401 for anything but an active key. */
  async authenticate(token: string | undefined): Promise<Authenticated<LayerKeyPrincipal>> {
    const known = this.authenticateCached(token);
    if (known) return known;
    const hash = sha256Hex(token as string);
    const epoch = this.cache.epoch;
    const record = await this.records.byHash(hash);
    if (!record || !record.is_active) throw credentialRefused.unknown();
    const principal: LayerKeyPrincipal = {
      kind: 'layer-key',
      keyId: record.key_id,
      keyHash: hash,
      workspaceId: record.workspace_id,
      tenant: layerTenant(record.workspace_id),
      env: record.env,
      rateLimitRpm: record.rate_limit_rpm ?? this.defaultRpm,
    };
    this.cache.set(hash, { principal, tags: [`layer:${hash}`, `workspace:${record.workspace_id}`] }, epoch);
    this.records.touch(hash);
    return this.authenticated(principal);
  }

  /**
   * The same answer without I/O where this instance already knows it: throws 401 for a token that cannot be a
   * key, returns the principal of a cached key, and undefined when only Redis can tell.
   */
  authenticateCached(token: string | undefined): Authenticated<LayerKeyPrincipal> | undefined {
    if (token === undefined) throw credentialRefused.missing();
    if (!LAYER_KEY_PATTERN.test(token)) throw credentialRefused.wrongKind('Not a workspace key', 'layer');
    const hash = sha256Hex(token);
    const cached = this.cache.get(hash);
    if (!cached) return undefined;
    this.records.touch(hash);
    return this.authenticated(cached.principal);
  }

  private authenticated(principal: LayerKeyPrincipal): Authenticated<LayerKeyPrincipal> {
    return { principal, rate: { credentialId: `layer:${principal.keyId}`, rpm: principal.rateLimitRpm } };
  }
}

function toRecord(row: Record<string, string> | null | undefined): LayerKeyRecord | undefined {
  if (!row || row.key_id === undefined) return undefined;
  const rpm = row.rate_limit_rpm ? Number(row.rate_limit_rpm) : null;
  return {
    key_id: row.key_id,
    workspace_id: row.workspace_id ?? '',
    label: row.label ? row.label : null,
    env: row.env === 'test' ? 'test' : 'live',
    key_prefix: row.key_prefix ?? '',
    rate_limit_rpm: rpm,
    created_at: row.created_at ?? '',
    last_used_at: row.last_used_at ? row.last_used_at : null,
    is_active: row.is_active === '1',
  };
}
