import { fail } from '../../errors.js';
import type { RequestOrigin } from '../../memory/audit/audit-log.js';
import type { IdentityDeps } from '../identity-scripts.js';
import { runIdentityScript } from '../identity-scripts.js';
import type { EngramPrincipal } from '../principal.js';
import { sessionTag } from './jwt-credentials.js';

/** Ends sessions (POST /auth/logout): lua/revokeSession-3.lua, audited as auth.logout. */
export class SessionService {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly skewSeconds: number,
  ) {}

  /** Ends the caller's session; false when it had already ended. */
  async end(principal: EngramPrincipal, requestId: string, origin: RequestOrigin): Promise<boolean> {
    const sessionId = principal.sessionId;
    if (sessionId === null || principal.expiresAt === null)
      throw fail.unprocessable('Only a session ends here: this credential is not a session token');
    const { tenant } = principal;
    const call = { caller: principal, requestId, origin };
    const entry = this.deps.audit.entry(
      { org: principal.org, actor: principal.actor, requestId, origin },
      'auth.logout',
      { type: 'session', id: sessionId },
    );
    const ttl = Math.max(1, principal.expiresAt + this.skewSeconds * 1000 - Date.now());
    const tag = sessionTag(sessionId);
    const ended = await runIdentityScript(
      this.deps,
      'revokeSession',
      [this.deps.keys.revokedSession(tenant, sessionId)],
      call,
      [
        ttl,
        JSON.stringify({ user_id: principal.userId, session_id: sessionId }),
        this.deps.keys.credentialInvalidationChannel(),
        tag,
        JSON.stringify(entry),
        this.deps.audit.maxLen,
      ],
    );
    this.deps.invalidateLocal(tag);
    return ended === 1;
  }
}
