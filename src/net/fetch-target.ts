import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { fail } from '../errors.js';
import { isPublicAddress } from './outbound-url.js';

/**
 * The rule for every URL the server fetches on a client's behalf (pack installs by URL, webhook
 * deliveries): https only, and never an address inside the operator's network. The check runs on the
 * addresses DNS returns, in the socket's own lookup, so the address that is checked is the address that
 * is connected to (a name that resolves to a public address at check time and a private one at connect
 * time cannot slip through). `allowPrivate` (MNEMO_ALLOW_PRIVATE_URLS=true) lifts both rules, for tests and
 * closed networks.
 */
export interface OutboundPolicy {
  /** Allow plain http and private, loopback and link-local targets. */
  allowPrivate: boolean;
}

/** True when `address` (an IP literal) is one a fetched URL must not reach: the ranges of outbound-url.ts. */
export const isPrivateAddress = (address: string): boolean => !isPublicAddress(address);

/**
 * Parses and checks what can be checked without DNS: a valid absolute URL, https (http too with
 * allowPrivate), no credentials in it, and a host that is not a private IP literal. 400 otherwise.
 */
export function assertPublicUrl(raw: string, policy: OutboundPolicy, field = 'url'): URL {
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
  if (!policy.allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) throw refusedTarget(field, host);
  return url;
}

export const refusedTarget = (field: string, address: string) =>
  fail.validation(`${field} resolves to a private, loopback or link-local address (${address}); refused`);

/** Thrown by the guarded lookup: the socket never connects. */
export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
  constructor(readonly address: string) {
    super(`refused to connect to private address ${address}`);
  }
}

/**
 * A socket `lookup` that resolves every address of the name and refuses the connection when any of them is
 * private (an attacker's name could list one public and one private address), before connecting.
 */
export function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const list = addresses as unknown as { address: string; family: number }[];
      const bad = policy.allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (bad) {
        callback(new PrivateAddressError(bad.address), '', 0);
        return;
      }
      if (options.all) callback(null, list);
      else {
        const first = list[0];
        if (!first)
          callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        else callback(null, first.address, first.family);
      }
    });
  };
}
