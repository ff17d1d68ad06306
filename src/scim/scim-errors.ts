import { MnemoError, type ErrorCode } from '../errors.js';

/**
 * SCIM errors (RFC 7644 §3.12): the one error registry (src/errors.ts) with the `scimType` the SCIM dialect
 * renders beside `status` and `detail`. Only the scimType values RFC 7644 defines are used.
 */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers';

export const scimError = (code: ErrorCode, scimType: ScimType | undefined, detail: string): MnemoError =>
  new MnemoError(code, detail, scimType ? { meta: { scimType } } : {});

export const scimFail = {
  invalidFilter: (detail: string) => scimError('validation', 'invalidFilter', detail),
  invalidSyntax: (detail: string) => scimError('validation', 'invalidSyntax', detail),
  invalidPath: (detail: string) => scimError('validation', 'invalidPath', detail),
  invalidValue: (detail: string) => scimError('validation', 'invalidValue', detail),
  noTarget: (detail: string) => scimError('validation', 'noTarget', detail),
  mutability: (detail: string) => scimError('validation', 'mutability', detail),
  uniqueness: (detail: string) => scimError('conflict', 'uniqueness', detail),
  notFound: (detail: string) => scimError('not_found', undefined, detail),
  /** 412: If-Match named another version (RFC 7644 §3.14). */
  versionMismatch: () =>
    scimError('precondition_failed', undefined, 'The resource changed: If-Match does not name its version'),
};
