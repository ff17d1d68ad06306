import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/redis/keys.js';
import { layerTenant, orgTenant, parseTenant, tenantName } from '../../src/tenant.js';

/** The hash tag Redis Cluster hashes: the text between the first `{` and the first `}` after it. */
function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : undefined;
}

describe('tenants', () => {
  const keys = new Keys('mnemo');

  it('give a workspace and an organisation of the same name different key spaces and slots', () => {
    const layer = layerTenant('acme');
    const org = orgTenant('acme');
    expect(keys.docs(layer)).toBe('mnemo:{acme}:docs');
    expect(keys.docs(org)).toBe('mnemo:{org:acme}:docs');
    for (const tenant of [layer, org]) {
      const tags = [
        keys.docs(tenant),
        keys.eventStream(tenant),
        keys.eventChannel(tenant),
        keys.users(tenant),
      ].map(hashTag);
      expect(new Set(tags)).toEqual(new Set([tenant]));
    }
    expect(hashTag(keys.eventStream(layer))).not.toBe(hashTag(keys.eventStream(org)));
  });

  it('name their face’s id in envelopes and read back only well-formed tenants', () => {
    expect(tenantName(orgTenant('acme'))).toBe('acme');
    expect(tenantName(layerTenant('acme'))).toBe('acme');
    expect(parseTenant('org:acme')).toBe('org:acme');
    expect(parseTenant('acme')).toBe('acme');
    expect(parseTenant('org:a:b')).toBeUndefined();
    expect(parseTenant('{x}')).toBeUndefined();
    expect(parseTenant(3)).toBeUndefined();
  });
});
