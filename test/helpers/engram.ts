import { ADMIN_KEY, startServer, uniqueWorkspace, type TestResponse, type TestServer } from './server.js';

/**
 * Helpers for engram API tests: a server whose rate limits stay out of the way (the rate-limit test sets
 * its own), and an organisation fixture that provisions users, keys and groups through the admin API with
 * the bootstrap admin key, exactly as an operator would.
 */
export const NO_LIMITS = { engramRateLimitRpm: 1_000_000, engramWriteRateLimitRpm: 1_000_000 };

export function startEngramServer(overrides: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  return startServer({ ...NO_LIMITS, ...overrides });
}

export interface TestUser {
  id: string;
  username: string;
  key: string;
}

export class Org {
  readonly id: string;

  constructor(
    readonly server: TestServer,
    name = 'org',
  ) {
    this.id = uniqueWorkspace(name);
  }

  /** A request as the admin key acting on this organisation. */
  admin(method: string, path: string, body?: unknown): Promise<TestResponse> {
    return this.server.request(method, path, {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': this.id },
      ...(body === undefined ? {} : { body }),
    });
  }

  /** A request with a user's key. */
  as(user: TestUser | string, method: string, path: string, body?: unknown): Promise<TestResponse> {
    return this.server.request(method, path, {
      token: typeof user === 'string' ? user : user.key,
      ...(body === undefined ? {} : { body }),
    });
  }

  async user(username: string, role: 'viewer' | 'editor' | 'admin' = 'editor'): Promise<TestUser> {
    const created = await this.admin('POST', '/api/v1/admin/users', { username, role });
    if (created.status !== 201) throw new Error(`creating user: ${created.status} ${created.text}`);
    const issued = await this.admin('POST', '/api/v1/admin/api-keys', { user_id: created.json.id });
    if (issued.status !== 201) throw new Error(`issuing key: ${issued.status} ${issued.text}`);
    // An admin-issued key does not open the user's personal scope: the user exchanges it for their own.
    const own = await this.as(issued.json.key, 'POST', '/api/v1/me/api-keys', {});
    if (own.status !== 201) throw new Error(`minting own key: ${own.status} ${own.text}`);
    return { id: created.json.id, username, key: own.json.key };
  }

  async group(name: string, parentId?: string): Promise<{ id: string; scope: string; name: string }> {
    const res = await this.admin('POST', '/api/v1/admin/groups', {
      name,
      ...(parentId ? { parent_id: parentId } : {}),
    });
    if (res.status !== 201) throw new Error(`creating group: ${res.status} ${res.text}`);
    return res.json;
  }

  async member(groupId: string, user: TestUser, role: 'viewer' | 'editor' | 'admin'): Promise<void> {
    const res = await this.admin('POST', `/api/v1/admin/groups/${groupId}/members`, {
      user_id: user.id,
      role,
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`adding member: ${res.status} ${res.text}`);
  }

  /** Creates an engram as `user` (or the admin key) and returns the response body; fails on anything but 201. */
  async engram(user: TestUser | null, body: Record<string, unknown>): Promise<TestResponse['json']> {
    const res = user
      ? await this.as(user, 'POST', '/api/v1/engrams', body)
      : await this.admin('POST', '/api/v1/engrams', body);
    if (res.status !== 201) throw new Error(`creating engram: ${res.status} ${res.text}`);
    return res.json;
  }
}

/** Asserts nothing itself: the RFC 7807 fields a problem document must have. */
export const PROBLEM_FIELDS = ['type', 'title', 'status', 'detail', 'instance'];
