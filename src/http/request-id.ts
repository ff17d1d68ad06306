import { randomUUID } from 'node:crypto';

/** A client's X-Request-Id is echoed when it is a plausible id (bounded, no spaces or control characters). */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id of an exchange: the client's X-Request-Id when usable, otherwise a new UUID. */
export function requestIdFrom(given: string): string {
  return REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}
