/**
 * Scope strings (plur.md §1.10): `global`, `org:<org>`, `user:<org>:<name>`, `group:<org>/<team>[/<sub>...]`
 * and `project:<org>/<path>`. Every scope a request names is parsed and canonicalised here first; a scope of
 * another organisation parses fine and is simply never readable.
 *
 * Short forms name the caller's organisation: `group:platform` is `group:<org>/platform` (the contract's
 * own example) and `project:api` is `project:<org>/api`. Only single-segment paths are expanded, because
 * `group:a/b` already reads as organisation `a`, group `b`.
 */
export type ScopeKind = 'global' | 'org' | 'user' | 'group' | 'project';

export interface Scope {
  kind: ScopeKind;
  /** Canonical text, e.g. group:acme/platform/infra. */
  text: string;
  /** Organisation the scope belongs to (null for global). */
  org: string | null;
  /** user: the username; group/project: the path after the organisation; org/global: ''. */
  path: string;
}

export const SCOPE_MAX_LENGTH = 300;
const SEGMENT = '[A-Za-z0-9._-]{1,64}';
const PATH = `${SEGMENT}(?:/${SEGMENT}){0,15}`;
const ORG_SCOPE = new RegExp(`^org:(${SEGMENT})$`);
const USER_SCOPE = new RegExp(`^user:(${SEGMENT}):(${SEGMENT})$`);
const TREE_SCOPE = new RegExp(`^(group|project):(${SEGMENT})/(${PATH})$`);
const SHORT_TREE_SCOPE = new RegExp(`^(group|project):(${SEGMENT})$`);

/** Parses a scope, expanding short forms into `org`; undefined when it is not a scope at all. */
export function parseScope(raw: string, org: string): Scope | undefined {
  const value = raw.trim();
  if (value.length === 0 || value.length > SCOPE_MAX_LENGTH) return undefined;
  if (value === 'global') return { kind: 'global', text: 'global', org: null, path: '' };
  let m = ORG_SCOPE.exec(value);
  if (m) return { kind: 'org', text: value, org: m[1] as string, path: '' };
  m = USER_SCOPE.exec(value);
  if (m) return { kind: 'user', text: value, org: m[1] as string, path: m[2] as string };
  m = TREE_SCOPE.exec(value);
  if (m) {
    const kind = m[1] as 'group' | 'project';
    return { kind, text: value, org: m[2] as string, path: m[3] as string };
  }
  m = SHORT_TREE_SCOPE.exec(value);
  if (m) {
    const kind = m[1] as 'group' | 'project';
    const path = m[2] as string;
    return { kind, text: `${kind}:${org}/${path}`, org, path };
  }
  return undefined;
}

/** The personal scope of a user. */
export const userScope = (org: string, username: string): string => `user:${org}:${username}`;
export const orgScope = (org: string): string => `org:${org}`;
export const groupScope = (org: string, path: string): string => `group:${org}/${path}`;

/** True when `path` is `ancestor` or lies below it (`a/b` is within `a`, `ab` is not). */
export const isPathWithin = (path: string, ancestor: string): boolean =>
  path === ancestor || path.startsWith(`${ancestor}/`);

/**
 * Visibility hierarchy (plur.md §1.5 isScopeWithin): a scope is within another when it is equal, or
 * continues it after ":" or "/" — `group:acme/platform/infra` is within `group:acme/platform`.
 */
export const isScopeWithin = (scope: string, ancestor: string): boolean =>
  scope === ancestor || scope.startsWith(`${ancestor}/`) || scope.startsWith(`${ancestor}:`);
