import { randomBytes } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

/**
 * mnemo's own session tokens: short-lived HS256 JWTs minted at sign-in. Secrets come as
 * MNEMO_SESSION_SECRETS=current,previous: new tokens are signed with the first; a token verifies with any
 * listed one, so a secret rotates without logging anyone out (add the new one first, drop the old one a
 * session lifetime later). Only HS256 is accepted, and only with these secrets: a token is never verified
 * with a key it names itself.
 */
export const SESSION_ISSUER = 'mnemo';
export const SESSION_AUDIENCE = 'mnemo-session';
/** The state cookie of a sign-in in progress is signed with the same secrets but another audience. */
export const LOGIN_STATE_AUDIENCE = 'mnemo-login-state';

export interface SessionClaims {
  /** The user id. */
  sub: string;
  org: string;
  /** The session id (revoked by POST /auth/logout). */
  jti: string;
  /** Seconds since the epoch. */
  exp: number;
}

export class SessionTokens {
  private readonly keys: Uint8Array[];

  constructor(
    secrets: readonly string[],
    readonly ttlSeconds: number,
    private readonly skewSeconds: number,
  ) {
    this.keys = secrets.map((s) => new TextEncoder().encode(s));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** A new session for a user of an organisation; `now` in ms. */
  async mint(
    userId: string,
    org: string,
    now = Date.now(),
  ): Promise<{ token: string; claims: SessionClaims }> {
    const iat = Math.floor(now / 1000);
    const claims: SessionClaims = {
      sub: userId,
      org,
      jti: `ses_${randomBytes(16).toString('hex')}`,
      exp: iat + this.ttlSeconds,
    };
    const token = await this.sign({ org }, SESSION_AUDIENCE, claims.sub, claims.jti, iat, claims.exp);
    return { token, claims };
  }

  /** The claims of a valid session token, or undefined (bad signature, expired, not a session). */
  async verify(token: string): Promise<SessionClaims | undefined> {
    const payload = await this.verifyFor(token, SESSION_AUDIENCE);
    if (!payload) return undefined;
    const { sub, jti, exp, org } = payload;
    if (
      typeof sub !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      typeof org !== 'string'
    )
      return undefined;
    return { sub, org, jti, exp };
  }

  /** Signs a short-lived payload for another purpose (the login state cookie). */
  signPayload(payload: Record<string, unknown>, audience: string, ttlSeconds: number): Promise<string> {
    const iat = Math.floor(Date.now() / 1000);
    return this.sign(payload, audience, undefined, undefined, iat, iat + ttlSeconds);
  }

  /** The payload of a token this server signed for `audience`, or undefined. */
  async verifyFor(token: string, audience: string): Promise<JWTPayload | undefined> {
    for (const key of this.keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: SESSION_ISSUER,
          audience,
          clockTolerance: this.skewSeconds,
          requiredClaims: ['exp', 'iat'],
        });
        return payload;
      } catch (err) {
        // Another secret may have signed it; anything else (expired, wrong audience) holds for all secrets.
        if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) return undefined;
      }
    }
    return undefined;
  }

  private sign(
    payload: Record<string, unknown>,
    audience: string,
    subject: string | undefined,
    jti: string | undefined,
    iat: number,
    exp: number,
  ): Promise<string> {
    const key = this.keys[0];
    if (!key) throw new Error('no session secret is configured');
    let jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(SESSION_ISSUER)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp);
    if (subject !== undefined) jwt = jwt.setSubject(subject);
    if (jti !== undefined) jwt = jwt.setJti(jti);
    return jwt.sign(key);
  }
}
