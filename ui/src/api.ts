/**
 * The console's only way to the server: the public HTTP API, with the signed-in credential as a bearer
 * token. Errors of both dialects (layer `{detail, status}`, engram RFC 7807) become one ApiError whose
 * message is the server's own sentence.
 */
export type CredentialKind = 'admin' | 'layer' | 'engram';

export interface Credential {
  kind: CredentialKind;
  token: string;
  /** What the server said about it at sign-in (workspace, username, organisation). */
  label: string;
  /** An engram user with the organisation admin role (the admin key always is one). */
  orgAdmin: boolean;
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
  credential: Pick<Credential, 'token'> | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (credential) headers.authorization = `Bearer ${credential.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached');
  }
  const text = await res.text();
  const parsed = parseJson(text);
  if (!res.ok) throw new ApiError(res.status, errorMessage(res.status, parsed, text));
  return parsed as T;
}

/** A plain-text GET (Prometheus /metrics); `undefined` when the route does not exist (404). */
export async function getText(
  credential: Pick<Credential, 'token'> | null,
  path: string,
): Promise<{ status: number; text: string } | undefined> {
  const headers: Record<string, string> = {};
  if (credential) headers.authorization = `Bearer ${credential.token}`;
  const res = await fetch(path, { headers, credentials: 'omit', cache: 'no-store' });
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
