import { lookup as systemLookup } from 'node:dns/promises';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';

/**
 * The rule for every URL mnemo calls on a user's behalf (webhooks, pack installs by URL): https only, and
 * every address the host resolves to must be public. Loopback, private, carrier-grade NAT, link-local (which holds the cloud
 * metadata endpoints 169.254.169.254 and fd00:ec2::254), multicast, reserved and documentation ranges are
 * refused, so a registered URL cannot reach the service's own network. The check is made at registration
 * and again for the connection itself (`checkedLookup`): a name that later resolves elsewhere (DNS
 * rebinding) is refused before any connection is made. `allowPrivate` (MNEMO_ALLOW_PRIVATE_URLS, for tests
 * and closed networks) lifts both rules.
 */
export class OutboundUrlRefused extends Error {
  override name = 'OutboundUrlRefused';
}

export interface OutboundPolicy {
  allowPrivate: boolean;
  /** DNS servers to ask instead of the system resolver ("host" or "host:port"); empty = the system's. */
  dnsServers?: readonly string[];
}

const BLOCKED = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address an IPv6 one embeds (::ffff:a.b.c.d mapped, 64:ff9b::/96 NAT64, ::a.b.c.d), if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::|::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = parseInt(hex[1] as string, 16);
  const low = parseInt(hex[2] as string, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True when `address` (an IP literal) is in none of the refused ranges. */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return !BLOCKED.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = embeddedIpv4(address);
  if (v4 !== undefined) return isPublicAddress(v4);
  return !BLOCKED.check(address, 'ipv6');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address of `host` (an IP literal resolves to itself). */
async function resolveAll(host: string, policy: OutboundPolicy): Promise<ResolvedAddress[]> {
  const literal = net.isIP(host);
  if (literal !== 0) return [{ address: host, family: literal as 4 | 6 }];
  if (policy.dnsServers && policy.dnsServers.length > 0) {
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([...policy.dnsServers]);
    const [v4, v6] = await Promise.all([
      resolver.resolve4(host).catch(() => [] as string[]),
      resolver.resolve6(host).catch(() => [] as string[]),
    ]);
    return [
      ...v4.map((address) => ({ address, family: 4 as const })),
      ...v6.map((address) => ({ address, family: 6 as const })),
    ];
  }
  const found = await systemLookup(host, { all: true, verbatim: true }).catch(() => []);
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

/** The host of a URL without IPv6 brackets. */
const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves the URL's host and throws OutboundUrlRefused unless the scheme is https and every address is
 * public (both lifted by `allowPrivate`). Answers the addresses it checked.
 */
export async function assertPublicUrl(raw: string, policy: OutboundPolicy): Promise<ResolvedAddress[]> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundUrlRefused('the URL is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:'))
    throw new OutboundUrlRefused('the URL must use https');
  if (url.username !== '' || url.password !== '')
    throw new OutboundUrlRefused('the URL must not carry credentials');
  return checkedAddresses(bareHost(url), policy);
}

/** Every address of `host`, refused unless all are public (or the policy allows private ones). */
export async function checkedAddresses(host: string, policy: OutboundPolicy): Promise<ResolvedAddress[]> {
  const addresses = await resolveAll(host, policy);
  if (addresses.length === 0) throw new OutboundUrlRefused(`the host ${host} does not resolve`);
  if (!policy.allowPrivate) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused)
      throw new OutboundUrlRefused(
        `the host ${host} resolves to ${refused.address}, a loopback, private, link-local, multicast or metadata address`,
      );
  }
  return addresses;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/**
 * A `lookup` for node:http(s) requests that resolves and checks at connect time, so the address connected
 * to is the address checked (no window between check and connect for a rebinding DNS answer).
 */
export function checkedLookup(policy: OutboundPolicy) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    checkedAddresses(hostname.replace(/^\[(.*)\]$/, '$1'), policy).then(
      (addresses) => {
        if (options.all) callback(null, addresses);
        else
          callback(null, (addresses[0] as ResolvedAddress).address, (addresses[0] as ResolvedAddress).family);
      },
      (err: Error) => callback(Object.assign(err, { code: 'EREFUSED' }), '', 0),
    );
  };
}
