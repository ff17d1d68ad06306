/**
 * The one registry of error kinds. Domain code throws `MnemoError` with a code from here; each HTTP face
 * renders the code in its own dialect (see src/http/error-dialects.ts). Nothing outside src/http knows
 * about status lines, but every code has exactly one HTTP status so the mapping cannot drift.
 */
export const ERROR_KINDS = {
  validation: { status: 400, title: 'Validation error' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Insufficient permission' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable entity' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const;

export type ErrorCode = keyof typeof ERROR_KINDS;

export interface MnemoErrorOptions {
  /** Extra response headers the transport should send (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Machine-readable hints that dialects may include (SCIM's scimType, for example). */
  meta?: Record<string, string>;
  cause?: unknown;
}

export class MnemoError extends Error {
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;
  readonly meta: Record<string, string>;

  constructor(code: ErrorCode, detail: string, options: MnemoErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MnemoError';
    this.code = code;
    this.headers = options.headers ?? {};
    this.meta = options.meta ?? {};
  }

  get status(): number {
    return ERROR_KINDS[this.code].status;
  }
}

export const isMnemoError = (value: unknown): value is MnemoError => value instanceof MnemoError;

/** Shorthands for the kinds thrown most often. */
export const fail = {
  validation: (detail: string) => new MnemoError('validation', detail),
  unauthorized: (detail = 'Unauthorized') => new MnemoError('unauthorized', detail),
  forbidden: (detail: string) => new MnemoError('forbidden', detail),
  notFound: (detail = 'Not found') => new MnemoError('not_found', detail),
  conflict: (detail: string) => new MnemoError('conflict', detail),
  unprocessable: (detail: string) => new MnemoError('unprocessable', detail),
  unavailable: (detail: string) => new MnemoError('unavailable', detail),
};
