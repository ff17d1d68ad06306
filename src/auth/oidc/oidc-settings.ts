import { isRole, type Role } from '../roles.js';
import { isWorkspaceId } from '../../workspace.js';

/**
 * The identity providers this deployment trusts, one per organisation: from MNEMO_OIDC_ISSUER and its
 * siblings, and/or the JSON array of MNEMO_OIDC_ISSUERS. An issuer must be https (its discovery document
 * and keys decide who may sign in), except a loopback issuer (tests, a local IdP).
 */
export interface OidcIssuerSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  /** What an IdP access token's `aud` must contain to be accepted on /api/v1. */
  audience: string;
  org: string;
  claims: { username: string; email: string; groups: string | undefined; role: string | undefined };
  defaultRole: Role;
}

/** The configuration values this module reads (a slice of Config). */
export interface OidcConfigValues {
  oidcIssuer: string | undefined;
  oidcClientId: string | undefined;
  oidcClientSecret: string | undefined;
  oidcAudience: string | undefined;
  oidcOrg: string | undefined;
  oidcUsernameClaim: string;
  oidcEmailClaim: string;
  oidcGroupsClaim: string | undefined;
  oidcRoleClaim: string | undefined;
  oidcDefaultRole: string;
  oidcIssuers: string | undefined;
  defaultOrg: string;
  sessionSecrets: readonly string[];
  publicUrl: string | undefined;
}

/** Shortest session secret accepted (HS256 wants at least 256 bits). */
export const MIN_SESSION_SECRET = 32;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Why `url` cannot be an issuer, or undefined. */
export function issuerProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (parsed.search !== '' || parsed.hash !== '') return `"${url}" must have no query or fragment`;
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname)) return undefined;
  return `"${url}" must be https (plain http only for a loopback issuer)`;
}

/** Every configured issuer; throws a list of problems (see oidcConfigProblems). */
export function oidcIssuers(values: OidcConfigValues): OidcIssuerSettings[] {
  const { issuers, problems } = readIssuers(values);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return issuers;
}

/** The configuration problems of the OIDC variables, each naming its variable (empty when fine). */
export function oidcConfigProblems(values: OidcConfigValues): string[] {
  return readIssuers(values).problems;
}

function readIssuers(values: OidcConfigValues): { issuers: OidcIssuerSettings[]; problems: string[] } {
  const problems: string[] = [];
  const issuers: OidcIssuerSettings[] = [];
  const add = (name: string, raw: Record<string, unknown>): void => {
    const text = (key: string): string | undefined => {
      const value = raw[key];
      if (value === undefined || value === null || value === '') return undefined;
      if (typeof value !== 'string') {
        problems.push(`${name}: ${key} must be a string`);
        return undefined;
      }
      return value.trim();
    };
    const issuer = text('issuer');
    const clientId = text('client_id');
    if (issuer === undefined) return void problems.push(`${name}: the issuer URL is missing`);
    const bad = issuerProblem(issuer);
    if (bad) problems.push(`${name}: ${bad}`);
    if (clientId === undefined) problems.push(`${name}: a client id is needed with ${issuer}`);
    const org = text('org') ?? values.defaultOrg;
    if (!isWorkspaceId(org)) problems.push(`${name}: org must be 1-64 characters of [A-Za-z0-9._-]`);
    const defaultRole = text('default_role') ?? 'viewer';
    if (!isRole(defaultRole)) problems.push(`${name}: default_role must be viewer, editor or admin`);
    if (issuers.some((other) => other.issuer === issuer.replace(/\/$/, '')))
      problems.push(`${name}: ${issuer} is configured twice`);
    if (bad || clientId === undefined || !isRole(defaultRole)) return;
    issuers.push({
      issuer: issuer.replace(/\/$/, ''),
      clientId,
      clientSecret: text('client_secret'),
      audience: text('audience') ?? clientId,
      org,
      claims: {
        username: text('username_claim') ?? 'preferred_username',
        email: text('email_claim') ?? 'email',
        groups: text('groups_claim'),
        role: text('role_claim'),
      },
      defaultRole,
    });
  };
  if (values.oidcIssuer !== undefined) {
    add('MNEMO_OIDC_ISSUER', {
      issuer: values.oidcIssuer,
      client_id: values.oidcClientId,
      client_secret: values.oidcClientSecret,
      audience: values.oidcAudience,
      org: values.oidcOrg,
      username_claim: values.oidcUsernameClaim,
      email_claim: values.oidcEmailClaim,
      groups_claim: values.oidcGroupsClaim,
      role_claim: values.oidcRoleClaim,
      default_role: values.oidcDefaultRole,
    });
  }
  if (values.oidcIssuers !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values.oidcIssuers);
    } catch {
      problems.push('MNEMO_OIDC_ISSUERS: expected a JSON array of issuer objects');
    }
    if (parsed !== undefined && !Array.isArray(parsed))
      problems.push('MNEMO_OIDC_ISSUERS: expected a JSON array of issuer objects');
    if (Array.isArray(parsed)) {
      parsed.forEach((entry: unknown, i) => {
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
          problems.push(`MNEMO_OIDC_ISSUERS[${i}]: expected an object`);
        else add(`MNEMO_OIDC_ISSUERS[${i}]`, entry as Record<string, unknown>);
      });
    }
  }
  if (issuers.length > 0 || values.sessionSecrets.length > 0) {
    if (issuers.length > 0 && values.sessionSecrets.length === 0)
      problems.push('MNEMO_SESSION_SECRETS: single sign-on needs at least one session secret');
    values.sessionSecrets.forEach((secret, i) => {
      if (secret.length < MIN_SESSION_SECRET)
        problems.push(`MNEMO_SESSION_SECRETS: secret ${i + 1} has under ${MIN_SESSION_SECRET} characters`);
    });
  }
  if (values.publicUrl !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(values.publicUrl))
    problems.push('MNEMO_PUBLIC_URL: expected an http(s) origin such as https://mnemo.example.com');
  return { issuers, problems };
}
