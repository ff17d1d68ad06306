import type { AdminCall } from '../auth/admin-guard.js';
import type { EngramPrincipal } from '../auth/principal.js';
import type { RequestContext, RequestOrigin } from '../memory/audit/audit-log.js';

/**
 * What a REST route of /api/v1 passes down for the audit trail: the request id and its origin. The channel
 * is `admin` when the credential is the deployment's admin key, `rest` for a user's key; the address is the
 * socket's peer and the user agent is cut to a sane length. Routes stay one-liners:
 * `users.listUsers(adminCall(principal, request))`.
 */
export interface TransportRequest {
  requestId: string;
  ip: string;
  header(name: string): string | undefined;
  /** Set by a transport other than REST (the MCP endpoint): it names the channel itself. */
  origin?: RequestOrigin | undefined;
}

const USER_AGENT_MAX = 256;

export function originOf(principal: EngramPrincipal, request: TransportRequest): RequestOrigin {
  if (request.origin) return request.origin;
  const userAgent = request.header('user-agent');
  return {
    channel: principal.keyId === null ? 'admin' : 'rest',
    ip: request.ip === '' ? undefined : request.ip,
    userAgent: userAgent === undefined || userAgent === '' ? undefined : userAgent.slice(0, USER_AGENT_MAX),
  };
}

export const requestContext = (principal: EngramPrincipal, request: TransportRequest): RequestContext => ({
  requestId: request.requestId,
  origin: originOf(principal, request),
});

export const adminCall = (
  principal: EngramPrincipal,
  request: TransportRequest,
): AdminCall & { caller: EngramPrincipal } => ({
  caller: principal,
  requestId: request.requestId,
  origin: originOf(principal, request),
});
