import { Type } from '@sinclair/typebox';

/**
 * Offset pagination for the admin lists that can grow (users, groups, members, keys): `limit` (default
 * 100, at most 500) rows from `offset` (default 0) of the list in its stable order; `total_count` is the
 * length of the whole list, so a client pages until offset + rows.length reaches it.
 */
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
});

export function pageOf<T>(
  rows: T[],
  query: { limit?: number; offset?: number },
): { rows: T[]; total_count: number } {
  const offset = query.offset ?? 0;
  return { rows: rows.slice(offset, offset + (query.limit ?? 100)), total_count: rows.length };
}
