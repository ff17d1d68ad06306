import { isIP } from 'node:net';
import { fail } from '../errors.js';
import { isPublicAddress, type OutboundPolicy } from './outbound-url.js';

/**
 * The checks of a client-named URL that need no DNS, answered as 400s in the engram API's shape (pack
 * installs by URL): a valid absolute URL, https (http too with allowPrivate), no credentials in it, and a
 * host that is not a refused IP literal. The addresses a name resolves to are checked by the connection's
 * own lookup (outbound-url.ts checkedLookup), so the address checked is the address connected to.
 */
export function parseFetchUrl(raw: string, policy: OutboundPolicy, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail.validation(`${field} is not a valid absolute URL`);
  }
  const schemes = policy.allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) throw fail.validation(`${field} must use https`);
  if (url.username !== '' || url.password !== '')
    throw fail.validation(`${field} must not carry credentials`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!policy.allowPrivate && isIP(host) !== 0 && !isPublicAddress(host))
    throw fail.validation(
      `${field} refused: ${host} is a loopback, private, link-local, multicast or metadata address`,
    );
  return url;
}
