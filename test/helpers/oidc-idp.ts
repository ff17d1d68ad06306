import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * A real OpenID Connect provider for tests: panva's oidc-provider, in this process, on 127.0.0.1 (port 0).
 * The HTTP server starts first so its issuer URL is known before mnemo is configured; `configure` then
 * builds the provider with mnemo's redirect URI. Its dev interactions (a login form that takes any
 * login and password, then a consent form) are what a browser would see.
 *
 * The test holds the signing keys, so it can also forge tokens (wrong audience, expired, other issuer)
 * with the IdP's real key, and rotate them (`rotate` restarts the provider with a new key first).
 */
export interface IdpAccount {
  preferred_username?: string;
  email?: string;
  mnemo_role?: string;
  groups?: string[];
}

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export const WEB_CLIENT = { id: 'mnemo-web', secret: 'web-client-secret-for-tests' };
export const BOT_CLIENT = { id: 'mnemo-bot', secret: 'bot-client-secret-for-tests' };

export class TestIdp {
  readonly keys: SigningKey[] = [];
  /** Requests the IdP has received, so a test can show that something never contacted it. */
  requests = 0;
  private provider: Provider | undefined;
  private handler: ReturnType<Provider['callback']> | undefined;
  private redirectUris: string[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly issuer: string,
    readonly audience: string,
    readonly accounts: Record<string, IdpAccount>,
  ) {}

  /**
   * The MNEMO_OIDC_ISSUERS entry of this IdP for the web client, mapping its users into `org` with their
   * `mnemo_role` claim; `extra` adds or overrides fields.
   */
  webIssuer(org: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      issuer: this.issuer,
      client_id: WEB_CLIENT.id,
      client_secret: WEB_CLIENT.secret,
      audience: this.audience,
      org,
      role_claim: 'mnemo_role',
      ...extra,
    };
  }

  static async start(audience: string, accounts: Record<string, IdpAccount> = {}): Promise<TestIdp> {
    const holder: { idp?: TestIdp } = {};
    const server = http.createServer((req, res) => {
      if (holder.idp) holder.idp.requests++;
      const handle = holder.idp?.handler;
      if (!handle) {
        res.statusCode = 503;
        res.end('not configured yet');
        return;
      }
      void handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const idp = new TestIdp(server, `http://127.0.0.1:${port}`, audience, accounts);
    holder.idp = idp;
    await idp.addKey();
    return idp;
  }

  /** The newest signing key (what the provider signs with). */
  get currentKey(): SigningKey {
    return this.keys[0] as SigningKey;
  }

  /** Builds (or rebuilds) the provider; mnemo's callback URL goes in the web client's redirect URIs. */
  configure(redirectUris: string[] = this.redirectUris): void {
    this.redirectUris = redirectUris;
    const { audience, accounts } = this;
    const config: Configuration = {
      clients: [
        {
          client_id: WEB_CLIENT.id,
          client_secret: WEB_CLIENT.secret,
          redirect_uris: redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
        {
          client_id: BOT_CLIENT.id,
          client_secret: BOT_CLIENT.secret,
          redirect_uris: [],
          grant_types: ['client_credentials'],
          response_types: [],
          scope: 'api',
        },
      ],
      jwks: { keys: this.keys.map((k) => k.privateJwk) },
      findAccount: (_ctx, id) => ({
        accountId: id,
        claims: () => ({ sub: id, ...(accounts[id] ?? {}) }),
      }),
      claims: {
        openid: ['sub'],
        profile: ['preferred_username', 'mnemo_role', 'groups'],
        email: ['email'],
      },
      scopes: ['openid', 'profile', 'email', 'api'],
      conformIdTokenClaims: false,
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60, IdToken: 3600 },
      cookies: { keys: ['test-idp-cookie-key-0123456789'] },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: 'api',
            audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 600,
          }),
        },
      },
    };
    const provider = new Provider(this.issuer, config);
    // oidc-provider logs a warning per dev interaction; the test output stays readable without them.
    provider.on('server_error', () => undefined);
    this.provider = provider;
    this.handler = provider.callback();
  }

  /** A new signing key first in the JWKS (the old ones stay, as at a real rotation), provider rebuilt. */
  async rotate(): Promise<SigningKey> {
    const key = await this.addKey();
    if (this.provider) this.configure();
    return key;
  }

  /** A client-credentials access token (a JWT for mnemo's audience). */
  async clientCredentialsToken(): Promise<string> {
    const res = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${BOT_CLIENT.id}:${BOT_CLIENT.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api' }).toString(),
    });
    const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!res.ok || !body.access_token)
      throw new Error(`client credentials failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async addKey(): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = `k${this.keys.length + 1}-${Date.now().toString(36)}`;
    const key: SigningKey = {
      kid,
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' },
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    };
    this.keys.unshift(key);
    return key;
  }
}

/**
 * A browser for the code flow: follows redirects by hand with a cookie jar (names only: the IdP and mnemo
 * both live on 127.0.0.1 and their cookie names differ), submits the IdP's login and consent forms, and
 * stops at the first answer that is not a redirect or an IdP form.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  async get(url: string): Promise<Response> {
    return this.send(url, { method: 'GET' });
  }

  async send(url: string, init: RequestInit): Promise<Response> {
    const cookie = [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string> | undefined), ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line))
        this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /**
   * Runs a sign-in from `start` (mnemo's /auth/login) as `login` through the IdP's forms; resolves with
   * the final response (mnemo's callback answer) and every URL visited.
   */
  async signIn(start: string, login: string): Promise<{ res: Response; visited: string[] }> {
    const visited: string[] = [];
    let url = start;
    let res = await this.get(url);
    for (let step = 0; step < 20; step++) {
      visited.push(url);
      if (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location') ?? '', url).toString();
        res = await this.get(url);
        continue;
      }
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/html')) return { res, visited };
      const html = await res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
      if (!action || !prompt) throw new Error(`unexpected IdP page at ${url}: ${html.slice(0, 300)}`);
      const form = new URLSearchParams({ prompt });
      if (prompt === 'login') {
        form.set('login', login);
        form.set('password', 'any password');
      }
      url = new URL(action, url).toString();
      res = await this.send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    }
    throw new Error(`the sign-in did not finish: ${visited.join(' -> ')}`);
  }
}
