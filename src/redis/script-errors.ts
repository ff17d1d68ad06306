/**
 * Negative integer replies of Lua scripts are error codes. They are defined here once; scripts return them
 * (see the header of each script for which ones it can return) and `checkScriptReply` turns them into a
 * typed `ScriptError` that domain services map to their own errors.
 */
export const SCRIPT_ERRORS = {
  '-1': 'not_found',
  '-2': 'conflict',
  '-3': 'invalid_state',
  '-4': 'limit_exceeded',
  '-5': 'mismatch',
  /** An argument the caller built is not what the script needs (a bug): refused before any write. */
  '-6': 'invalid_input',
} as const;

export type ScriptErrorKind = (typeof SCRIPT_ERRORS)[keyof typeof SCRIPT_ERRORS];

export class ScriptError extends Error {
  override name = 'ScriptError';
  constructor(
    readonly script: string,
    readonly kind: ScriptErrorKind,
    readonly code: number,
  ) {
    super(`script ${script} failed: ${kind} (${code})`);
  }
}

/** Throws ScriptError when `reply` is a known negative code; returns the reply otherwise. */
export function checkScriptReply<T>(script: string, reply: T): T {
  const code: unknown = Array.isArray(reply) ? (reply as unknown[])[0] : reply;
  if (typeof code === 'number' && code < 0) {
    const kind = SCRIPT_ERRORS[String(code) as keyof typeof SCRIPT_ERRORS];
    if (kind === undefined) throw new Error(`script ${script} returned an unknown error code ${code}`);
    throw new ScriptError(script, kind, code);
  }
  return reply;
}
