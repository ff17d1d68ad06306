/**
 * The cookies of single sign-on. Both are HttpOnly (page scripts never read them), SameSite=Lax (sent on
 * the top-level redirect back from the IdP, never on another site's POST, fetch or WebSocket), and Secure
 * when the deployment's public URL is https.
 * - mnemo_session: the session token, for browsers (the admin console); /api/v1 and the event socket take
 *   it when no Authorization header is sent.
 * - mnemo_login: the signed state of one sign-in in progress (state, nonce, PKCE verifier), only sent to
 *   /auth/callback, and cleared there.
 */
export const SESSION_COOKIE = 'mnemo_session';
export const LOGIN_COOKIE = 'mnemo_login';
export const LOGIN_COOKIE_PATH = '/auth/callback';

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  maxAgeSeconds: number;
  secure: boolean;
}

/** A Set-Cookie value; values here are JWTs (base64url and dots), which need no quoting. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [
    `${name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${options.maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** A Set-Cookie value that removes the cookie. */
export const clearCookie = (name: string, path: string, secure: boolean): string =>
  setCookie(name, '', { path, maxAgeSeconds: 0, secure });
