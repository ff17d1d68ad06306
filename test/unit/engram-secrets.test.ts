import { describe, expect, it } from 'vitest';
import { findSecret, stringsOf } from '../../src/memory/engrams/secrets.js';

describe('secret detection', () => {
  const secrets: [string, string][] = [
    ['AWS access key', 'use AKIAIOSFODNN7EXAMPLE for the bucket'],
    ['AWS secret key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['API secret key (sk-...)', 'the OpenAI key is sk-proj-abcdefghijklmnopqrstuvwx'],
    ['password assignment', 'login with password=hunter22'],
    ['password assignment', 'DB_PASSWORD: "s3cr3t!x"'],
    ['password assignment', 'client_secret=abcd1234efgh'],
    ['credentials in a URL or connection string', 'postgres://app:s3cret@db.internal:5432/main'],
    ['credentials in a URL or connection string', 'https://bob:pa55@example.com/x'],
    [
      'JSON Web Token',
      'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
    ['private key block', '-----BEGIN RSA PRIVATE KEY-----\nMIIE...'],
    ['private key block', '-----BEGIN OPENSSH PRIVATE KEY-----'],
    ['bearer token', 'curl -H "Authorization: Bearer abcdefghijklmnop1234"'],
    ['IP address with port', 'the cache is at 10.0.3.7:6379'],
    ['GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['API key', 'plur_sk_0123456789abcdef0123456789abcdef0123456789abcdef'],
  ];
  for (const [kind, text] of secrets) {
    it(`finds a ${kind}: ${text.slice(0, 30)}`, () => expect(findSecret([text])).toBe(kind));
  }

  const harmless = [
    'Deploys must run migrations first.',
    'Rotate the password every 90 days.',
    'Our secret: always write the test first.',
    'Use a bearer token for service calls.',
    'Connection strings live in the vault, never in code.',
    'Version 10.0.3 fixed the bug',
    'The sk- prefix marks OpenAI keys',
    'See https://docs.example.com/api for details',
  ];
  for (const text of harmless) {
    it(`leaves alone: ${text}`, () => expect(findSecret([text])).toBeUndefined());
  }

  it('looks into every string of nested unknown fields', () => {
    expect(stringsOf({ a: [{ b: 'x' }, 'y'], c: 3, 'password=hunter22': true })).toEqual([
      'a',
      'b',
      'x',
      'y',
      'c',
      'password=hunter22',
    ]);
  });
});
