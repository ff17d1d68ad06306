import { fail } from '../errors.js';
import type { AuditLog } from '../memory/audit/audit-log.js';
import { auditContext, type AdminCall } from './admin-guard.js';
import type { PlurKeyRecord, PlurKeyService } from './plur-keys.js';
import type { EngramPrincipal } from './principal.js';

/** A self-service call: made with a user's own credential. */
export interface OwnCall extends AdminCall {
  caller: EngramPrincipal;
}

/** Active, unexpired keys one user may hold at a time (self-service minting refuses more). */
export const MAX_KEYS_PER_USER = 20;

/**
 * Self-service API keys (/api/v1/me/api-keys): a user mints, lists and revokes their own keys. Minted keys
 * carry the user's personal scope, which no admin-issued key for them does. A credential without it (a key
 * an admin issued for the user) can mint a personal key only by spending itself: it is revoked before the
 * new key exists, so an admin-issued key opens the personal scope at most once, and a user whose enrolment
 * key was used by someone else finds it revoked.
 */
export class OwnKeyService {
  constructor(
    private readonly keys: PlurKeyService,
    private readonly audit: AuditLog,
  ) {}

  async list(call: OwnCall): Promise<PlurKeyRecord[]> {
    const userId = this.requireUser(call);
    await this.audit.record(
      this.audit.entry(auditContext(call), 'apikey.list', { type: 'user', id: userId }),
    );
    return (await this.keys.recordsOf(call.caller.org)).filter((r) => r.user_id === userId);
  }

  async mint(
    call: OwnCall,
    input: { label: string | null; expiresAt: string | null },
  ): Promise<{ key: string; record: PlurKeyRecord }> {
    const userId = this.requireUser(call);
    const now = Date.now();
    const held = (await this.keys.recordsOf(call.caller.org)).filter(
      (r) => r.user_id === userId && r.active && (r.expires_at === null || Date.parse(r.expires_at) > now),
    );
    if (held.length >= MAX_KEYS_PER_USER)
      throw fail.conflict(`You already hold ${MAX_KEYS_PER_USER} active API keys; revoke one first`);
    const { keyId } = call.caller;
    if (call.caller.access.ownScope === null && keyId !== null) {
      // Enrolment: the admin-issued key is spent first; two requests racing with it cannot both win.
      const spent = await this.keys.revokeWhere(call, keyId, (r) => r.user_id === userId);
      if (spent !== 'revoked') throw fail.unauthorized('Invalid or expired token');
    }
    return this.keys.mint(call, userId, { ...input, personal: true });
  }

  /** Revokes one of the caller's own keys; false (404) for a key of anyone else. */
  async revoke(call: OwnCall, keyId: string): Promise<boolean> {
    const userId = this.requireUser(call);
    return (await this.keys.revokeWhere(call, keyId, (r) => r.user_id === userId)) !== 'unknown';
  }

  private requireUser(call: OwnCall): string {
    const { userId, keyId } = call.caller;
    if (userId === null || keyId === null)
      throw fail.forbidden('The admin key has no keys of its own; use /api/v1/admin/api-keys');
    return userId;
  }
}
