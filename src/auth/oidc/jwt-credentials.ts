import { decodeProtectedHeader } from 'jose';
import { fail } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import { orgTenant } from '../../tenant.js';
import type { IdentityProviders } from './identity-providers.js';
import type { OidcUsers } from './oidc-users.js';
import type { SessionTokens } from './session-tokens.js';

/**
 * The two JWT credentials of the engram API, told apart by who signed them:
 * - a session token (HS256, signed by this deployment at sign-in; see session-tokens.ts), valid until it
 *   expires or is ended by POST /auth/logout (a revocation record, checked here);
 * - an access token of a trusted IdP (client credentials or a user's), verified against its JWKS; its
 *   subject is provisioned just in time like a person signing in.
 * Either resolves to a user of one organisation; engram-auth.ts then checks the user is active and builds
 * the principal. Every refusal is the same 401, whatever was wrong.
 */
export type JwtCredentialKind = 'session' | 'idp_token';

export interface JwtCredential {
  kind: JwtCredentialKind;
  org: string;
  userId: string;
  /** ms since the epoch. */
  expiresAt: number;
  /** The session id; null for an IdP token. */
  sessionId: string | null;
  /** Rate-limit bucket family. */
  credentialId: string;
  /** Invalidation tags that revoke this credential itself (session:<id>). */
  tags: string[];
}

/** Three base64url segments; the last may be empty (an unsigned token, refused when verified). */
export const JWT_PATTERN = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;

export const sessionTag = (sessionId: string): string => `session:${sessionId}`;

export class JwtCredentials {
  constructor(
    private readonly sessions: SessionTokens,
    private readonly providers: IdentityProviders,
    private readonly users: OidcUsers,
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly log: Logger,
    private readonly invalid: string,
  ) {}

  get enabled(): boolean {
    return this.sessions.enabled || this.providers.enabled;
  }

  async resolve(token: string): Promise<JwtCredential> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw fail.unauthorized(this.invalid);
    }
    if (alg === 'HS256' && this.sessions.enabled) {
      const session = await this.sessions.verify(token);
      if (session) {
        const revoked = await this.redis.exists(
          this.keys.revokedSession(orgTenant(session.org), session.jti),
        );
        if (revoked === 1) throw fail.unauthorized(this.invalid);
        return {
          kind: 'session',
          org: session.org,
          userId: session.sub,
          expiresAt: session.exp * 1000,
          sessionId: session.jti,
          credentialId: `session:${session.sub}`,
          tags: [sessionTag(session.jti)],
        };
      }
    }
    const provider = this.providers.forToken(token);
    if (!provider) throw fail.unauthorized(this.invalid);
    let claims;
    try {
      claims = await provider.verifyAccessToken(token);
    } catch (err) {
      this.log.debug({ err: (err as Error).message, issuer: provider.settings.issuer }, 'IdP token refused');
      throw fail.unauthorized(this.invalid);
    }
    const user = await this.users.signIn(provider.settings, claims, { channel: 'rest' }, 'idp-token');
    return {
      kind: 'idp_token',
      org: provider.settings.org,
      userId: user.id,
      expiresAt: (claims.exp as number) * 1000,
      sessionId: null,
      credentialId: `idp:${user.id}`,
      tags: [],
    };
  }
}
