/**
 * Secret detection for engrams aimed at shared scopes (plur.md §1.5 write-time guards). A statement that
 * carries a credential must not be spread to a group, project, the organisation or global; in the author's
 * own user scope it is their business. Patterns favour precision: each needs the shape of a real secret,
 * not merely a word like "password".
 */
interface SecretPattern {
  kind: string;
  pattern: RegExp;
}

const PATTERNS: readonly SecretPattern[] = [
  { kind: 'private key block', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { kind: 'AWS access key', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/ },
  {
    kind: 'AWS secret key',
    pattern: /\baws_?secret_?access_?key\b\s*[=:]\s*["']?[A-Za-z0-9/+=]{30,}/i,
  },
  { kind: 'API secret key (sk-...)', pattern: /\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_]{16,}/ },
  { kind: 'API key', pattern: /\b(?:plur_sk|plm_live|plm_test|plm_admin)_[A-Za-z0-9]{16,}/ },
  { kind: 'GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/ },
  { kind: 'Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  {
    kind: 'JSON Web Token',
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/,
  },
  {
    kind: 'password assignment',
    pattern:
      /\b\w*?(?:password|passwd|pwd|passphrase|_secret|secret_key|api[_-]?key|access[_-]?token|auth[_-]?token)\b\s*[=:]\s*["']?[^\s"',;]{4,}/i,
  },
  { kind: 'bearer token', pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/ },
  // scheme://user:password@host — database connection strings and basic-auth URLs alike.
  {
    kind: 'credentials in a URL or connection string',
    pattern: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:@/]+:[^\s@/]+@[^\s/]+/i,
  },
  {
    kind: 'IP address with port',
    pattern: /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}:\d{2,5}\b/,
  },
];

/** The kind of the first secret found in any of `texts`, or undefined. */
export function findSecret(texts: readonly (string | null | undefined)[]): string | undefined {
  for (const text of texts) {
    if (!text) continue;
    for (const { kind, pattern } of PATTERNS) if (pattern.test(text)) return kind;
  }
  return undefined;
}

/** Every string inside a JSON value (for the client's unknown fields). */
export function stringsOf(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 32) return out;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out, depth + 1);
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      stringsOf(v, out, depth + 1);
    }
  return out;
}
