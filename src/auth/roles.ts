/**
 * The engram API's three tiers (plur.md §1.10): viewer reads, editor also writes, admin also pins and
 * administers. A user has one role in the organisation and one per group membership.
 */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Readonly<Record<Role, number>> = { viewer: 1, editor: 2, admin: 3 };

export const isRole = (value: unknown): value is Role =>
  typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/** The stronger of two roles (null = none). */
export function strongerRole(a: Role | null, b: Role | null): Role | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

export const atLeast = (role: Role | null, needed: Role): boolean =>
  role !== null && RANK[role] >= RANK[needed];
