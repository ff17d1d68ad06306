import { MnemoError } from '../errors.js';

/**
 * The 401s of every face and of the event-stream upgrade. Each says what was wrong with the credential
 * without ever saying whether a key exists (unknown and revoked share one answer), and carries the RFC 6750
 * challenge: `invalid_request` for a request that is malformed, `invalid_token` for a token that is not
 * accepted here.
 */
export type BearerErrorCode = 'invalid_request' | 'invalid_token';

/** The `WWW-Authenticate` value of a 401. */
export const bearerChallenge = (error: BearerErrorCode): string => `Bearer realm="mnemo", error="${error}"`;

function refused(detail: string, error: BearerErrorCode): MnemoError {
  return new MnemoError('unauthorized', detail, { headers: { 'WWW-Authenticate': bearerChallenge(error) } });
}

/** Which keys each kind of route takes, as the refusals name them. */
export const TAKES = {
  layer: '/v1 takes a workspace key (plm_live_... or plm_test_...)',
  engram: '/api/v1 takes a user key (plur_sk_...) or the admin key',
  admin: 'admin routes take the admin key only',
  scim: '/scim/v2 takes a SCIM token (plur_scim_...) only',
  metrics: '/metrics takes the metrics token (MNEMO_METRICS_TOKEN) or the admin key',
} as const;

export const credentialRefused = {
  missing: () => refused('Missing credential: send Authorization: Bearer <key>', 'invalid_request'),
  notBearer: () => refused('The Authorization header must have the form "Bearer <key>"', 'invalid_request'),
  repeated: () => refused('More than one Authorization header: send exactly one', 'invalid_request'),
  /** A token of another kind than the route takes, or of no kind at all; `why` names it. */
  wrongKind: (why: string, kind: keyof typeof TAKES) => refused(`${why}: ${TAKES[kind]}`, 'invalid_token'),
  unknown: () => refused('Unknown or revoked API key', 'invalid_token'),
};

/**
 * Whose credential a 401 refused, when the refusal knows it (a revoked or expired key, a deactivated user):
 * what the denial audit names (the key id, never the secret) and which organisation's trail it goes to.
 * Kept beside the error, never in it, so no dialect can render it to the caller.
 */
export interface RefusedCredential {
  org: string;
  /** Rate-limit family of the credential (plur:<key id>, session:<id>, ...). */
  credentialId: string;
  /** Engram-API key id; null for a session or an IdP token. */
  keyId: string | null;
  userId: string | null;
  /** Why it was refused (for the audit payload only: the answer never says). */
  reason: 'revoked' | 'expired' | 'user_inactive';
}

const refusedCredentials = new WeakMap<object, RefusedCredential>();

/** Notes whose credential `error` refuses; returns the error. */
export function refusedFor(error: MnemoError, credential: RefusedCredential): MnemoError {
  refusedCredentials.set(error, credential);
  return error;
}

export const refusedCredentialOf = (error: unknown): RefusedCredential | undefined =>
  typeof error === 'object' && error !== null ? refusedCredentials.get(error) : undefined;
