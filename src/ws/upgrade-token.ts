import { bearerToken } from '../auth/bearer.js';

/**
 * Where an upgrade request carries its credential, in order of preference:
 * 1. `Authorization: Bearer <token>` (servers, CLIs);
 * 2. `Sec-WebSocket-Protocol: bearer, <token>` (browsers cannot set headers on a WebSocket; the server then
 *    answers the `bearer` subprotocol, as a browser requires one of its offers to be chosen);
 * 3. `?access_token=<token>` (last resort: URLs end up in proxy logs).
 */
export interface UpgradeToken {
  token: string | undefined;
  /** The subprotocol to answer ('' for none). */
  subprotocol: string;
  /** An Authorization header was sent but is not `Bearer <token>`. */
  malformed: boolean;
}

export const BEARER_SUBPROTOCOL = 'bearer';

export function upgradeToken(authorization: string, protocols: string, query: string): UpgradeToken {
  const offered = protocols
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const bearerAt = offered.findIndex((p) => p.toLowerCase() === BEARER_SUBPROTOCOL);
  const subprotocol = bearerAt >= 0 ? BEARER_SUBPROTOCOL : '';
  const fromHeader = bearerToken(authorization || undefined);
  const malformed = authorization !== '' && fromHeader === undefined;
  if (fromHeader !== undefined) return { token: fromHeader, subprotocol, malformed };
  const fromProtocol = bearerAt >= 0 ? offered[bearerAt + 1] : undefined;
  if (fromProtocol !== undefined) return { token: fromProtocol, subprotocol, malformed };
  const fromQuery = query === '' ? null : new URLSearchParams(query).get('access_token');
  return { token: fromQuery || undefined, subprotocol, malformed };
}
