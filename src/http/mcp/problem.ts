import { isMnemoError, MnemoError, type ErrorCode } from '../../errors.js';
import { isConnectionError } from '../../redis/clients.js';
import { renderError } from '../error-dialects.js';

/** An RFC 7807 problem as a tool error carries it (plus retry_after_seconds for a 429). */
export interface ToolProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  retry_after_seconds?: number;
  /** Extension members (a ToolRefusal's). */
  [member: string]: unknown;
}

/**
 * A tool refusal that tells more than its detail: `extensions` are added to the problem as members of their
 * own (RFC 7807 §3.2), e.g. the candidates of an ambiguous plur_forget search.
 */
export class ToolRefusal extends MnemoError {
  constructor(
    code: ErrorCode,
    detail: string,
    readonly extensions: Record<string, unknown>,
  ) {
    super(code, detail);
  }
}

/** Whether an error is one the domain or the transport raised on purpose (anything else is a bug). */
export const isExpected = (err: unknown): boolean => isMnemoError(err) || isConnectionError(err);

/**
 * The problem detail of a failed tool call, in the engram API's dialect whichever credential called:
 * the same registry and statuses as REST, so a 403 here is a 403 there. Unexpected errors are a 500
 * that says nothing more (the endpoint logs them).
 */
export function problemOf(err: unknown, tool: string): ToolProblem {
  const error = isMnemoError(err)
    ? err
    : isConnectionError(err)
      ? new MnemoError('unavailable', 'Storage is temporarily unavailable; retry shortly', {
          headers: { 'Retry-After': '1' },
        })
      : new MnemoError('internal', 'Internal server error');
  const rendered = renderError('engram', error, `mcp:tools/${tool}`);
  const base = JSON.parse(rendered.body) as ToolProblem;
  const problem = err instanceof ToolRefusal ? { ...err.extensions, ...base } : base;
  const retry = rendered.headers['Retry-After'];
  return retry === undefined ? problem : { ...problem, retry_after_seconds: Number(retry) };
}
