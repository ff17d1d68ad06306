import { bearerChallenge } from '../auth/credential-errors.js';
import { ERROR_KINDS, type ErrorCode, MnemoError } from '../errors.js';
import type { Face } from './route.js';

/**
 * Each face renders the one error registry (src/errors.ts) in its own dialect:
 * - layer  (/v1, /admin, /health): `{"detail": "...", "status": N}` as the layer API's clients expect;
 * - engram (/api/v1): RFC 7807 application/problem+json `{type, title, status, detail, instance}`;
 * - scim   (/scim/v2): the SCIM error schema of RFC 7644 §3.12.
 */
export interface RenderedError {
  status: number;
  contentType: string;
  body: string;
  headers: Record<string, string>;
}

export const PROBLEM_TYPE_BASE = 'https://mnemo.dev/errors/';

const PROBLEM_SLUGS: Record<ErrorCode, string> = {
  validation: 'validation-error',
  unauthorized: 'unauthorized',
  forbidden: 'insufficient-permission',
  not_found: 'not-found',
  method_not_allowed: 'method-not-allowed',
  conflict: 'conflict',
  precondition_failed: 'precondition-failed',
  payload_too_large: 'payload-too-large',
  unsupported_media_type: 'unsupported-media-type',
  unprocessable: 'unprocessable-entity',
  rate_limited: 'rate-limited',
  internal: 'internal-error',
  unavailable: 'service-unavailable',
};

export function renderError(face: Face, error: MnemoError, instance: string): RenderedError {
  const kind = ERROR_KINDS[error.code];
  const status = kind.status;
  const headers = withChallenge(status, error.headers);
  switch (face) {
    case 'layer':
      return {
        status,
        contentType: 'application/json',
        body: JSON.stringify({ detail: error.message, status }),
        headers,
      };
    case 'engram':
      return {
        status,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: PROBLEM_TYPE_BASE + PROBLEM_SLUGS[error.code],
          title: kind.title,
          status,
          detail: error.message,
          instance,
        }),
        headers,
      };
    case 'scim':
      return {
        status,
        contentType: 'application/scim+json',
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: String(status),
          // A 400 that names no scimType is a body or query that does not fit the schema: invalidSyntax.
          ...(error.meta.scimType
            ? { scimType: error.meta.scimType }
            : status === 400
              ? { scimType: 'invalidSyntax' }
              : {}),
          detail: error.message,
        }),
        headers,
      };
  }
}

/** RFC 6750: every 401 carries a Bearer challenge; refusals that do not name their error get invalid_token. */
function withChallenge(status: number, headers: Record<string, string>): Record<string, string> {
  if (status !== 401 || 'WWW-Authenticate' in headers) return headers;
  return { ...headers, 'WWW-Authenticate': bearerChallenge('invalid_token') };
}

/** Which face a URL belongs to, for errors raised before a route is known (404, 405, 413 ...). */
export function faceOfUrl(url: string): Face {
  if (url.startsWith('/api/')) return 'engram';
  if (url.startsWith('/scim/')) return 'scim';
  return 'layer';
}
