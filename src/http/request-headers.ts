import type * as uWS from 'uWebSockets.js';
import { credentialRefused } from '../auth/credential-errors.js';
import { bearerToken } from '../auth/bearer.js';

/**
 * The headers of a uWS request, copied while it is valid (it is gone after the callback). A name sent
 * twice keeps its first value and is listed in `repeated`: uWS's getHeader returns the first, a naive copy
 * the last, and a credential must not depend on which one a code path happened to read.
 */
export interface CopiedHeaders {
  values: Record<string, string>;
  repeated: ReadonlySet<string>;
}

export function copyHeaders(req: uWS.HttpRequest): CopiedHeaders {
  const values: Record<string, string> = {};
  const repeated = new Set<string>();
  req.forEach((name, value) => {
    if (name in values) repeated.add(name);
    else values[name] = value;
  });
  return { values, repeated };
}

/**
 * The bearer token of the Authorization header; undefined when there is none (the route's authenticator
 * says whether that is allowed). Two Authorization headers, or one that is not `Bearer <token>`, are a 401.
 */
export function authorizationToken(headers: CopiedHeaders): string | undefined {
  if (headers.repeated.has('authorization')) throw credentialRefused.repeated();
  const authorization = headers.values.authorization;
  if (authorization === undefined || authorization === '') return undefined;
  const token = bearerToken(authorization);
  if (token === undefined) throw credentialRefused.notBearer();
  return token;
}
