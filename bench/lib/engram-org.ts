import type { RequestSpec } from './load.js';
import { BENCH_ADMIN_KEY } from './stack.js';

/** POST with the admin key on behalf of an organisation (X-Mnemo-Org); throws on anything but 2xx. */
async function adminPost(
  url: string,
  org: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${BENCH_ADMIN_KEY}`,
      'x-mnemo-org': org,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * A user of an organisation (created with the admin key) and its API key, with a builder of the JSON
 * POSTs the load generator sends as that user: what the engram scenarios start from.
 */
export async function orgMember(
  url: string,
  org: string,
  username: string,
  role: 'admin' | 'editor' | 'viewer',
): Promise<{
  key: string;
  headers: Record<string, string>;
  post: (path: string, body: unknown) => RequestSpec;
}> {
  const user = await adminPost(url, org, '/api/v1/admin/users', { username, role });
  const key = String((await adminPost(url, org, '/api/v1/admin/api-keys', { user_id: user.id })).key);
  const headers = { authorization: `Bearer ${key}` };
  const post = (path: string, body: unknown): RequestSpec => ({
    method: 'POST',
    path,
    headers,
    body: JSON.stringify(body),
  });
  return { key, headers, post };
}
