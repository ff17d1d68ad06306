import { api, ApiError, type Credential, type CredentialKind } from './api';

/**
 * Sign-in: the kind of a key is told by its public shape (as the server does), then the server is asked
 * who it is. The credential is kept in sessionStorage only (gone when the tab closes; never localStorage,
 * never a URL), so a reload of the tab stays signed in.
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
