/**
 * Readers for fields of stored JSON records (typed as unknown): the value when it has the expected type,
 * else the fallback. Records come from Redis and may predate a field.
 */
export const asString = (value: unknown, fallback = ''): string =>
  typeof value === 'string' ? value : fallback;

export const asNumber = (value: unknown, fallback = 0): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;

export const asNullableString = (value: unknown): string | null => (typeof value === 'string' ? value : null);
