import { api, ApiError, type Credential, type CredentialKind } from './api';

/**
 * Sign-in: the kind of a key is told by its public shape (as the server does), then the server is asked
 * who it is. The credential is kept in sessionStorage only (gone when the tab closes; never localStorage,
 * never a URL), so a reload of the tab stays signed in.
 *
 * Single sign-on goes through the server's /auth/login (a top-level navigation to the IdP and back via
 * /auth/callback, which answers a 302 to the console and sets the HttpOnly mnemo_session cookie). The
 * console never sees that token: what it keeps in sessionStorage is only "signed in by a session" and
 * who that is; requests then carry the cookie (same-origin) instead of an Authorization header.
 */
const STORAGE_KEY = 'mnemo.console.credential';

export function kindOf(token: string): CredentialKind {
  if (/^plm_(live|test)_/.test(token)) return 'layer';
  if (token.startsWith('plur_sk_')) return 'engram';
  return 'admin';
}

export async function signIn(rawToken: string): Promise<Credential> {
  const token = rawToken.trim();
  if (token === '') throw new ApiError(0, 'Enter a key to sign in');
  const kind = kindOf(token);
  if (kind === 'layer') {
    const me = await api<{ workspace_id: string }>({ token }, 'GET', '/v1/me');
    return { kind, token, label: `workspace ${me.workspace_id}`, orgAdmin: false };
  }
  if (kind === 'engram') {
    const me = await api<{ username: string; org_id: string; role: string }>({ token }, 'GET', '/api/v1/me');
    return {
      kind,
      token,
      label: `${me.username} (${me.role}) in ${me.org_id}`,
      orgAdmin: me.role === 'admin',
    };
  }
  // Anything else can only be the admin key: /admin/metrics takes nothing else.
  await api({ token }, 'GET', '/admin/metrics').catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 401)
      throw new ApiError(401, 'Not a valid key: ' + err.message);
    throw err;
  });
  const me = await api<{ org_id: string }>({ token }, 'GET', '/api/v1/me');
  return { kind, token, label: `admin key (organisation ${me.org_id})`, orgAdmin: true };
}

export function remembered(): Credential | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Credential) : null;
  } catch {
    return null;
  }
}

export function remember(credential: Credential | null): void {
  if (credential) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** Where the IdP's round trip ends: the console, marked so that it asks the server who signed in. */
export const SSO_RETURN = '/ui/?signed-in=sso';

/** The /auth/login URL that starts single sign-on (optionally for one organisation's IdP). */
export function ssoLoginUrl(org?: string): string {
  const params = new URLSearchParams({ redirect: SSO_RETURN });
  if (org) params.set('org', org);
  return `/auth/login?${params.toString()}`;
}

/** True when the server has single sign-on configured (GET /auth/sso: no IdP contact, no cookie). */
export async function ssoAvailable(): Promise<boolean> {
  try {
    const res = await fetch('/auth/sso', { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) return false;
    const body = (await res.json()) as { enabled?: unknown };
    return body.enabled === true;
  } catch {
    return false;
  }
}

/** After the IdP's round trip: who the session cookie belongs to (401 when the sign-in did not finish). */
export async function signInWithSession(): Promise<Credential> {
  const me = await api<{ username: string; org_id: string; role: string; credential?: string }>(
    { token: '', session: true },
    'GET',
    '/api/v1/me',
  );
  return {
    kind: 'engram',
    token: '',
    session: true,
    label: `${me.username} (${me.role}) in ${me.org_id} · SSO`,
    orgAdmin: me.role === 'admin',
  };
}

/** Signing out of a session ends it on the server too (and clears the cookie); a key just stays valid. */
export async function signOut(credential: Credential): Promise<void> {
  if (!credential.session) return;
  await api(credential, 'POST', '/auth/logout').catch(() => undefined);
}
