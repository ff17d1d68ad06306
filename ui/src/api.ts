/**
 * The console's only way to the server: the public HTTP API, with the signed-in credential as a bearer
 * token, or, for a single sign-on session, the server's HttpOnly `mnemo_session` cookie (the page never
 * holds that token: `token` is empty and requests are sent with same-origin credentials). Errors of both
 * dialects (layer `{detail, status}`, engram RFC 7807) become one ApiError whose message is the server's
 * own sentence.
 */
export type CredentialKind = 'admin' | 'layer' | 'engram';

export interface Credential {
  kind: CredentialKind;
  token: string;
  /** What the server said about it at sign-in (workspace, username, organisation). */
  label: string;
  /** An engram user with the organisation admin role (the admin key always is one). */
  orgAdmin: boolean;
  /** Signed in by single sign-on: the session travels as the HttpOnly cookie, `token` is empty. */
  session?: boolean;
}

type Auth = Pick<Credential, 'token'> & { session?: boolean | undefined };

/** Headers and credentials mode of a request made with this credential (none: anonymous). */
function authOf(credential: Auth | null): { headers: Record<string, string>; mode: RequestCredentials } {
  if (credential?.session) return { headers: {}, mode: 'same-origin' };
  if (credential && credential.token !== '')
    return { headers: { authorization: `Bearer ${credential.token}` }, mode: 'omit' };
  return { headers: {}, mode: 'omit' };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(
  credential: Auth | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  return (await apiCall<T>(credential, method, path, body)).body;
}

/** Like `api`, with the HTTP status of the answer too (201 installed, 202 a job accepted, ...). */
export async function apiCall<T>(
  credential: Auth | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const { headers, mode } = authOf(credential);
  headers.accept = 'application/json';
  const form = typeof FormData !== 'undefined' && body instanceof FormData;
  if (body !== undefined && !form) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : form ? body : JSON.stringify(body),
      credentials: mode,
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached');
  }
  const text = await res.text();
  const parsed = parseJson(text);
  if (!res.ok) throw new ApiError(res.status, errorMessage(res.status, parsed, text));
  return { status: res.status, body: parsed as T };
}

/**
 * A download (an ndjson export, a pack archive): fetched with the credential in the header, never in a
 * URL, and handed to the browser as a Blob saved under `filename` (or the server's Content-Disposition
 * name). Resolves with the byte count.
 */
export async function download(
  credential: Auth | null,
  method: string,
  path: string,
  fallbackName: string,
  body?: unknown,
): Promise<{ bytes: number; filename: string }> {
  const { headers, mode } = authOf(credential);
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: mode,
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached');
  }
  if (!res.ok) {
    const text = await res.text();
    throw new ApiError(res.status, errorMessage(res.status, parseJson(text), text));
  }
  const blob = await res.blob();
  const disposition = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  const filename = disposition ?? fallbackName;
  const url = URL.createObjectURL(blob);
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    link.rel = 'noopener';
    document.body.appendChild(link);
    link.click();
    link.remove();
  } finally {
    // Revoked after the click has been handled: the download keeps its own reference.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return { bytes: blob.size, filename };
}

/** A plain-text GET (Prometheus /metrics); `undefined` when the route does not exist (404). */
export async function getText(
  credential: Auth | null,
  path: string,
): Promise<{ status: number; text: string } | undefined> {
  const { headers, mode } = authOf(credential);
  const res = await fetch(path, { headers, credentials: mode, cache: 'no-store' });
  if (res.status === 404) return undefined;
  return { status: res.status, text: await res.text() };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorMessage(status: number, parsed: unknown, text: string): string {
  if (parsed && typeof parsed === 'object') {
    const { detail, title } = parsed as { detail?: unknown; title?: unknown };
    if (typeof detail === 'string' && detail !== '') return detail;
    if (typeof title === 'string' && title !== '') return title;
  }
  return text.trim() === '' ? `HTTP ${status}` : `HTTP ${status}: ${text.slice(0, 200)}`;
}

/** `/path/` + a percent-encoded segment. */
export const seg = (value: string): string => encodeURIComponent(value);
