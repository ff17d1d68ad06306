import { describe, expect, it } from 'vitest';
import { OrgScopeAccess } from '../../src/auth/scope-access.js';
import { isScopeWithin, parseScope } from '../../src/memory/engrams/scopes.js';

describe('scope grammar', () => {
  it('parses every kind and keeps canonical text', () => {
    expect(parseScope('global', 'acme')).toEqual({ kind: 'global', text: 'global', org: null, path: '' });
    expect(parseScope('org:acme', 'acme')).toMatchObject({ kind: 'org', org: 'acme' });
    expect(parseScope('user:acme:alice', 'acme')).toMatchObject({ kind: 'user', org: 'acme', path: 'alice' });
    expect(parseScope('group:acme/platform/infra', 'acme')).toMatchObject({
      kind: 'group',
      text: 'group:acme/platform/infra',
      org: 'acme',
      path: 'platform/infra',
    });
    expect(parseScope('project:acme/platform/api', 'acme')).toMatchObject({
      kind: 'project',
      path: 'platform/api',
    });
  });

  it("expands the contract's short forms into the caller's organisation", () => {
    expect(parseScope('group:platform', 'acme')?.text).toBe('group:acme/platform');
    expect(parseScope('project:api', 'acme')?.text).toBe('project:acme/api');
  });

  it('rejects what is not a scope', () => {
    for (const bad of [
      '',
      ' ',
      'team:x',
      'group:',
      'group:a//b',
      'user:acme',
      'org:',
      'org:a b',
      'group:a/{b}',
      'x'.repeat(301),
    ])
      expect(parseScope(bad, 'acme'), bad).toBeUndefined();
  });

  it('knows the visibility hierarchy', () => {
    expect(isScopeWithin('group:acme/platform/infra', 'group:acme/platform')).toBe(true);
    expect(isScopeWithin('group:acme/platform', 'group:acme/platform')).toBe(true);
    expect(isScopeWithin('group:acme/platformx', 'group:acme/platform')).toBe(false);
  });
});

describe('scope access (permission resolution)', () => {
  const groups = ['platform', 'platform/infra', 'data', 'data/ml'];
  const member = (path: string, role: 'viewer' | 'editor' | 'admin') => ({
    groupId: `g-${path}`,
    path,
    role,
  });

  it('an editor writes their own scope, the org and their groups, and reads sub-groups', () => {
    const access = new OrgScopeAccess('acme', 'alice', 'editor', [member('platform', 'editor')], groups);
    expect(access.canWrite('user:acme:alice')).toBe(true);
    expect(access.canWrite('org:acme')).toBe(true);
    expect(access.canWrite('group:acme/platform')).toBe(true);
    expect(access.canWrite('group:acme/platform/infra')).toBe(true);
    expect(access.canWrite('project:acme/platform/api')).toBe(true);
    expect(access.canRead('group:acme/data')).toBe(false);
    expect(access.canPin('group:acme/platform')).toBe(false);
    expect(access.readableScopes).toEqual([
      'user:acme:alice',
      'org:acme',
      'global',
      'group:acme/platform',
      'group:acme/platform/infra',
    ]);
  });

  it('never shares personal scopes or other organisations, not even with admins', () => {
    const admin = new OrgScopeAccess('acme', 'root', 'admin', [], groups);
    expect(admin.canPin('group:acme/data/ml')).toBe(true);
    expect(admin.canRead('user:acme:alice')).toBe(false);
    expect(admin.canRead('group:other/platform')).toBe(false);
    expect(admin.canRead('org:other')).toBe(false);
    expect(admin.canRead('user:other:root')).toBe(false);
  });

  it('a viewer reads but never writes; a group role is the strongest covering membership', () => {
    const viewer = new OrgScopeAccess('acme', 'vic', 'viewer', [member('data', 'viewer')], groups);
    expect(viewer.canRead('org:acme')).toBe(true);
    expect(viewer.canWrite('org:acme')).toBe(false);
    expect(viewer.canWrite('user:acme:vic')).toBe(false);
    expect(viewer.canWrite('group:acme/data')).toBe(false);
    const both = new OrgScopeAccess(
      'acme',
      'bo',
      'editor',
      [member('data', 'viewer'), member('data/ml', 'admin')],
      groups,
    );
    expect(both.canWrite('group:acme/data')).toBe(false);
    expect(both.canPin('group:acme/data/ml')).toBe(true);
    expect(both.canRead('group:acme/data/other')).toBe(true);
  });

  it('the bootstrap admin key has no personal scope', () => {
    const key = new OrgScopeAccess('acme', null, 'admin', [], groups);
    expect(key.ownScope).toBeNull();
    expect(key.readableScopes).toEqual([
      'org:acme',
      'global',
      'group:acme/data',
      'group:acme/data/ml',
      'group:acme/platform',
      'group:acme/platform/infra',
    ]);
  });
});
