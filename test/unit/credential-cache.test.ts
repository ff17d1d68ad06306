import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../../src/auth/credential-cache.js';
import { constantTimeEqual } from '../../src/auth/secrets.js';
import { bearerToken } from '../../src/auth/bearer.js';
import { ulid } from '../../src/ids.js';

describe('credential cache', () => {
  it('expires entries after the TTL', () => {
    const cache = new CredentialCache<{ tags: string[] }>(1000);
    cache.set('h', { tags: [] }, cache.epoch, 0);
    expect(cache.get('h', 999)).toBeDefined();
    expect(cache.get('h', 1000)).toBeUndefined();
  });

  it('drops entries by tag', () => {
    const cache = new CredentialCache<{ tags: string[] }>(60_000);
    cache.set('a', { tags: ['layer:a', 'workspace:w'] });
    cache.set('b', { tags: ['layer:b', 'workspace:w'] });
    cache.set('c', { tags: ['layer:c', 'workspace:v'] });
    cache.invalidate('workspace:w');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('does not cache what was read before an invalidation that arrived during the read', () => {
    const cache = new CredentialCache<{ tags: string[] }>(60_000);
    const epoch = cache.epoch; // a loader starts reading the key record...
    cache.invalidate('layer:a'); // ...the key is revoked meanwhile (nothing cached yet to drop)...
    cache.set('a', { tags: ['layer:a'] }, epoch); // ...and its pre-revocation record must not stay
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', { tags: ['layer:a'] }, cache.epoch);
    expect(cache.get('a')).toBeDefined();
    const before = cache.epoch;
    cache.clear();
    expect(cache.epoch).not.toBe(before);
  });

  it('is bounded, dropping the oldest entry', () => {
    const cache = new CredentialCache<{ tags: string[] }>(60_000, 2);
    cache.set('a', { tags: [] });
    cache.set('b', { tags: [] });
    cache.set('c', { tags: [] });
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
  });

  it('caches nothing with a zero TTL', () => {
    const cache = new CredentialCache<{ tags: string[] }>(0);
    cache.set('a', { tags: [] });
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('secrets and ids', () => {
  it('compares secrets exactly', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', 'a')).toBe(false);
  });

  it('reads bearer tokens strictly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('mints ULIDs that sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => ulid(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
  });
});

describe('CredentialCache hit and miss counts (read by /metrics)', () => {
  it('counts a hit for a live entry and a miss for an unknown or expired one', () => {
    const cache = new CredentialCache<{ tags: string[] }>(1000);
    expect(cache.get('a', 0)).toBeUndefined();
    cache.set('a', { tags: [] }, cache.epoch, 0);
    expect(cache.get('a', 500)).toBeDefined();
    expect(cache.get('a', 500)).toBeDefined();
    expect(cache.get('a', 2000)).toBeUndefined(); // expired
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 2 });
  });
});
