import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { oidcIssuers } from '../../src/auth/oidc/oidc-settings.js';

const SECRET = 's'.repeat(32);

describe('OIDC configuration', () => {
  it('takes an https issuer, or plain http on loopback only', () => {
    for (const issuer of [
      'https://idp.example.com',
      'http://127.0.0.1:8080',
      'http://localhost:9000/realms/x',
    ]) {
      const config = loadConfig({
        MNEMO_OIDC_ISSUER: issuer,
        MNEMO_OIDC_CLIENT_ID: 'c',
        MNEMO_SESSION_SECRETS: SECRET,
      });
      expect(oidcIssuers(config)[0]).toMatchObject({ clientId: 'c', audience: 'c', org: 'default' });
    }
    expect(() =>
      loadConfig({
        MNEMO_OIDC_ISSUER: 'http://idp.example.com',
        MNEMO_OIDC_CLIENT_ID: 'c',
        MNEMO_SESSION_SECRETS: SECRET,
      }),
    ).toThrow(/MNEMO_OIDC_ISSUER: "http:\/\/idp.example.com" must be https/);
  });

  it('reports a missing client id, missing or short session secrets and a bad issuer list together', () => {
    let message = '';
    try {
      loadConfig({
        MNEMO_OIDC_ISSUER: 'https://idp.example.com',
        MNEMO_OIDC_ISSUERS: '[{"issuer":"ftp://x","client_id":"c"}, 3]',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('MNEMO_OIDC_ISSUER: a client id is needed');
    expect(message).toContain('MNEMO_OIDC_ISSUERS[0]: "ftp://x" must be https');
    expect(message).toContain('MNEMO_OIDC_ISSUERS[1]: expected an object');
    expect(() => loadConfig({ MNEMO_SESSION_SECRETS: 'short' })).toThrow(/secret 1 has under 32 characters/);
  });

  it('reads several issuers, one per organisation, with their claim mappings', () => {
    const config = loadConfig({
      MNEMO_SESSION_SECRETS: SECRET,
      MNEMO_OIDC_ISSUERS: JSON.stringify([
        {
          issuer: 'https://a.example/',
          client_id: 'ca',
          org: 'acme',
          groups_claim: 'groups',
          default_role: 'editor',
        },
        { issuer: 'https://b.example', client_id: 'cb', audience: 'api://b', org: 'beta' },
      ]),
    });
    expect(oidcIssuers(config)).toMatchObject([
      { issuer: 'https://a.example', org: 'acme', defaultRole: 'editor', claims: { groups: 'groups' } },
      {
        issuer: 'https://b.example',
        audience: 'api://b',
        org: 'beta',
        claims: { username: 'preferred_username' },
      },
    ]);
  });
});
