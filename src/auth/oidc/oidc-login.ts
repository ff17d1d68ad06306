import { createHash, randomBytes } from 'node:crypto';
import { MnemoError, fail } from '../../errors.js';
import type { RequestOrigin } from '../../memory/audit/audit-log.js';
import type { AuditLog } from '../../memory/audit/audit-log.js';
import type { UserRecord } from '../users.js';
import type { IdentityProvider, IdentityProviders } from './identity-providers.js';
import type { OidcUsers } from './oidc-users.js';
import { LOGIN_STATE_AUDIENCE, type SessionClaims, type SessionTokens } from './session-tokens.js';

/**
 * Sign-in for people: the authorization code flow with PKCE (S256), `state` and `nonce`. Nothing is stored
 * server-side while the user is at the IdP: the state, nonce, PKCE verifier and where to go afterwards
 * travel in a short-lived cookie signed with the session secrets, bound to this browser (the callback's
 * `state` must equal the cookie's). The callback exchanges the code, verifies the ID token (signature
 * against the IdP's JWKS, iss, aud = client id, exp, nonce), provisions the user just in time, and mints
 * mnemo's own session token.
 */
export const LOGIN_STATE_TTL_SECONDS = 600;

interface LoginState {
  st: string;
  n: string;
  v: string;
  /** The issuer (not `iss`: that claim names this server, the signer of the cookie). */
  idp: string;
  ru: string;
  r: string | null;
}

export interface SignedIn {
  token: string;
  claims: SessionClaims;
  user: UserRecord;
  /** Where the browser asked to go afterwards (a path of this server), or null: show the token. */
  redirect: string | null;
}

const b64url = (bytes: Buffer): string => bytes.toString('base64url');

/** A relative path of this server (never another origin: `//host` and `/\\host` are refused). */
export function isLocalPath(value: string): boolean {
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 2048;
}

export class OidcLogin {
  constructor(
    private readonly providers: IdentityProviders,
    private readonly sessions: SessionTokens,
    private readonly users: OidcUsers,
    private readonly audit: AuditLog,
    private readonly scopes: string,
  ) {}

  /** Whether any identity provider is configured to sign users in. */
  get enabled(): boolean {
    return this.providers.enabled;
  }

  /** The IdP's authorization URL to send the browser to, and the signed state to keep in its cookie. */
  async begin(input: { org?: string; redirect?: string; callbackUrl: string }): Promise<{
    location: string;
    state: string;
  }> {
    const provider = this.providers.forOrg(input.org);
    if (!provider)
      throw input.org === undefined
        ? fail.notFound('Single sign-on is not configured')
        : fail.notFound(`No identity provider signs in organisation ${input.org}`);
    if (input.redirect !== undefined && !isLocalPath(input.redirect))
      throw fail.validation('query.redirect must be a path of this server, such as /console');
    const doc = await this.discover(provider);
    const verifier = b64url(randomBytes(32));
    const state: LoginState = {
      st: b64url(randomBytes(16)),
      n: b64url(randomBytes(16)),
      v: verifier,
      idp: provider.settings.issuer,
      ru: input.callbackUrl,
      r: input.redirect ?? null,
    };
    const url = new URL(doc.authorization_endpoint);
    const scope = new Set(['openid', ...this.scopes.split(/\s+/).filter((s) => s !== '')]);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', provider.settings.clientId);
    url.searchParams.set('redirect_uri', input.callbackUrl);
    url.searchParams.set('scope', [...scope].join(' '));
    url.searchParams.set('state', state.st);
    url.searchParams.set('nonce', state.n);
    url.searchParams.set('code_challenge', b64url(createHash('sha256').update(verifier).digest()));
    url.searchParams.set('code_challenge_method', 'S256');
    const signed = await this.sessions.signPayload(
      { ...state },
      LOGIN_STATE_AUDIENCE,
      LOGIN_STATE_TTL_SECONDS,
    );
    return { location: url.toString(), state: signed };
  }

  /** Completes a sign-in from the callback's query and the state cookie. */
  async complete(input: {
    code?: string;
    state?: string;
    error?: string;
    iss?: string;
    stateCookie: string | undefined;
    origin: RequestOrigin;
    requestId: string;
  }): Promise<SignedIn> {
    const payload =
      input.stateCookie === undefined
        ? undefined
        : await this.sessions.verifyFor(input.stateCookie, LOGIN_STATE_AUDIENCE);
    const state = payload as unknown as LoginState | undefined;
    if (!state || typeof state.st !== 'string' || typeof state.v !== 'string')
      throw fail.validation(
        'No sign-in is in progress in this browser (or it took over 10 minutes): start at /auth/login',
      );
    if (input.state !== state.st) throw fail.validation('query.state does not match the sign-in in progress');
    if (input.error !== undefined)
      throw fail.unauthorized(`The identity provider refused the sign-in: ${input.error.slice(0, 200)}`);
    if (input.code === undefined || input.code === '') throw fail.validation('query.code is missing');
    const provider = this.providers.all().find((p) => p.settings.issuer === state.idp);
    if (!provider)
      throw fail.validation('The sign-in in progress names an issuer that is no longer configured');
    // RFC 9207: an IdP that names itself in the response must name the one the sign-in went to (mix-up).
    if (input.iss !== undefined && input.iss.replace(/\/$/, '') !== provider.settings.issuer)
      throw fail.validation('query.iss names another issuer than the sign-in in progress');
    const idToken = await this.exchange(provider, input.code, state);
    let claims;
    try {
      claims = await provider.verifyIdToken(idToken, state.n);
    } catch (err) {
      throw fail.unauthorized(`The ID token was refused: ${(err as Error).message}`);
    }
    const user = await this.users.signIn(provider.settings, claims, input.origin, input.requestId);
    if (!user.active) throw fail.unauthorized('This user is deactivated');
    const minted = await this.sessions.mint(user.id, provider.settings.org);
    await this.audit.record(
      this.audit.entry(
        {
          org: provider.settings.org,
          actor: { type: 'user', id: user.id },
          requestId: input.requestId,
          origin: input.origin,
        },
        'auth.login',
        { type: 'session', id: minted.claims.jti },
        'success',
        undefined,
        { via: 'oidc', issuer: provider.settings.issuer },
      ),
    );
    return { ...minted, user, redirect: state.r };
  }

  private async discover(provider: IdentityProvider) {
    try {
      return await provider.discovery();
    } catch (err) {
      throw new MnemoError(
        'unavailable',
        `The identity provider cannot be reached: ${(err as Error).message}`,
        {
          headers: { 'Retry-After': '5' },
        },
      );
    }
  }

  /** The code exchange at the token endpoint (client_secret_basic, or a public client with PKCE only). */
  private async exchange(provider: IdentityProvider, code: string, state: LoginState): Promise<string> {
    const doc = await this.discover(provider);
    const { clientId, clientSecret } = provider.settings;
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: state.ru,
      code_verifier: state.v,
    });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (clientSecret === undefined) form.set('client_id', clientId);
    else
      headers.authorization = `Basic ${Buffer.from(
        `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
      ).toString('base64')}`;
    let res: Response;
    try {
      res = await fetch(doc.token_endpoint, {
        method: 'POST',
        headers,
        body: form.toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(provider.timeoutMs),
      });
    } catch (err) {
      throw fail.unavailable(
        `The identity provider's token endpoint cannot be reached: ${(err as Error).message}`,
      );
    }
    const body = (await res.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown };
    if (!res.ok || typeof body.id_token !== 'string')
      throw fail.unauthorized(
        `The identity provider refused the code: ${typeof body.error === 'string' ? body.error.slice(0, 100) : res.status}`,
      );
    return body.id_token;
  }
}
