import { expect } from 'vitest';

/**
 * The 401 details every face and the event-stream upgrade give, spelled out once for the tests that walk
 * routes with bad credentials, with the RFC 6750 error each carries in `WWW-Authenticate`.
 */
export type Refusal = { detail: string; error: 'invalid_request' | 'invalid_token' };

const TAKES = {
  layer: '/v1 takes a workspace key (plm_live_... or plm_test_...)',
  engram: '/api/v1 takes a user key (plur_sk_...) or the admin key',
  admin: 'admin routes take the admin key only',
};

const request = (detail: string): Refusal => ({ detail, error: 'invalid_request' });
const token = (detail: string): Refusal => ({ detail, error: 'invalid_token' });

export const REFUSED = {
  missing: request('Missing credential: send Authorization: Bearer <key>'),
  notBearer: request('The Authorization header must have the form "Bearer <key>"'),
  repeated: request('More than one Authorization header: send exactly one'),
  unknown: token('Unknown or revoked API key'),
  /** The engram API's words for an unknown, revoked or expired user key (the reference stub's). */
  engramUnknown: token('Invalid or expired token'),
  notAKey: (kind: keyof typeof TAKES) => token(`Not an API key: ${TAKES[kind]}`),
  notAdminKey: token(`Not the admin key: ${TAKES.admin}`),
  workspaceKeyOn: (kind: keyof typeof TAKES) =>
    token(`A workspace key (plm_...) is for the layer API: ${TAKES[kind]}`),
  userKeyOn: (kind: keyof typeof TAKES) =>
    token(`A user key (plur_sk_...) is for the engram API: ${TAKES[kind]}`),
  adminKeyOn: (kind: keyof typeof TAKES) => token(`The admin key is for /admin and /api/v1: ${TAKES[kind]}`),
};

/** The Bearer challenge of a 401 (RFC 6750 §3). */
export function expectChallenge(headers: Headers, refusal: Refusal, label = ''): void {
  expect({ label, challenge: headers.get('www-authenticate') }).toEqual({
    label,
    challenge: `Bearer realm="mnemo", error="${refusal.error}"`,
  });
}
