import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { OidcIssuerSettings } from './oidc-settings.js';

/**
 * The trusted identity providers: each one's discovery document (fetched on first use, kept for an hour,
 * a failed fetch is retried on the next use) and its JWKS (jose's remote key set: cached, refetched when a
 * token names an unknown `kid`, at most once per cooldown, so key rotation at the IdP just works without
 * letting forged kids hammer it).
 *
 * Tokens from an IdP verify only with an asymmetric algorithm and a key of its JWKS: `alg: none` and HS256
 * (a token "signed" with the public key as an HMAC secret) are refused before any key is chosen.
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
}

export interface ProviderOptions {
  jwksCooldownMs: number;
  skewSeconds: number;
  discoveryTtlMs?: number;
  /** Time budget of one request to the IdP. */
  timeoutMs?: number;
}

const DISCOVERY_TTL_MS = 3_600_000;

export class IdentityProvider {
  private discovered: { doc: Discovery; until: number } | undefined;
  private pending: Promise<Discovery> | undefined;
  private keySet: { uri: string; jwks: ReturnType<typeof createRemoteJWKSet> } | undefined;

  constructor(
    readonly settings: OidcIssuerSettings,
    private readonly options: ProviderOptions,
  ) {}

  get timeoutMs(): number {
    return this.options.timeoutMs ?? 5000;
  }

  /** The discovery document, from the cache when fresh. */
  async discovery(now = Date.now()): Promise<Discovery> {
    if (this.discovered && this.discovered.until > now) return this.discovered.doc;
    this.pending ??= this.fetchDiscovery().finally(() => (this.pending = undefined));
    const doc = await this.pending;
    this.discovered = { doc, until: now + (this.options.discoveryTtlMs ?? DISCOVERY_TTL_MS) };
    return doc;
  }

  /** The verified claims of an access token issued for mnemo's API (aud = the configured audience). */
  verifyAccessToken(token: string): Promise<JWTPayload> {
    return this.verify(token, this.settings.audience);
  }

  /** The verified claims of an ID token issued to mnemo's client, with the nonce of its sign-in. */
  async verifyIdToken(token: string, nonce: string): Promise<JWTPayload> {
    const claims = await this.verify(token, this.settings.clientId);
    if (claims.nonce !== nonce) throw new Error('the ID token nonce does not match the sign-in');
    return claims;
  }

  private async verify(token: string, audience: string): Promise<JWTPayload> {
    const doc = await this.discovery();
    if (this.keySet?.uri !== doc.jwks_uri) {
      this.keySet = {
        uri: doc.jwks_uri,
        jwks: createRemoteJWKSet(new URL(doc.jwks_uri), {
          cooldownDuration: this.options.jwksCooldownMs,
          timeoutDuration: this.timeoutMs,
        }),
      };
    }
    const { payload } = await jwtVerify(token, this.keySet.jwks, {
      algorithms: ASYMMETRIC_ALGORITHMS,
      issuer: this.settings.issuer,
      audience,
      clockTolerance: this.options.skewSeconds,
      requiredClaims: ['exp', 'sub'],
    });
    return payload;
  }

  private async fetchDiscovery(): Promise<Discovery> {
    const url = `${this.settings.issuer}/.well-known/openid-configuration`;
    const res = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`discovery at ${url} answered ${res.status}`);
    const doc = (await res.json()) as Partial<Discovery>;
    // OpenID Connect Discovery §4.3: the document must name exactly the issuer it was fetched for.
    if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== this.settings.issuer)
      throw new Error(`discovery at ${url} names another issuer`);
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      if (typeof doc[field] !== 'string') throw new Error(`discovery at ${url} has no ${field}`);
    }
    return doc as Discovery;
  }
}

/** Every trusted provider, found by organisation (sign-in) or by a token's unverified `iss` (verification). */
export class IdentityProviders {
  private readonly byIssuer = new Map<string, IdentityProvider>();

  constructor(
    settings: readonly OidcIssuerSettings[],
    readonly options: ProviderOptions,
  ) {
    for (const s of settings) this.byIssuer.set(s.issuer, new IdentityProvider(s, options));
  }

  get enabled(): boolean {
    return this.byIssuer.size > 0;
  }

  all(): IdentityProvider[] {
    return [...this.byIssuer.values()];
  }

  /** The provider of an organisation, or the first one when none is named. */
  forOrg(org: string | undefined): IdentityProvider | undefined {
    const all = this.all();
    return org === undefined ? all[0] : all.find((p) => p.settings.org === org);
  }

  /**
   * The provider whose issuer a token claims, or undefined (not a JWT, or an issuer nobody trusts). The
   * claim only picks the keys to verify with; the verification then checks it again.
   */
  forToken(token: string): IdentityProvider | undefined {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return undefined;
    }
    return typeof iss === 'string' ? this.byIssuer.get(iss.replace(/\/$/, '')) : undefined;
  }
}
