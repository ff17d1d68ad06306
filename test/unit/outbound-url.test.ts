import { describe, expect, it } from 'vitest';
import { assertPublicUrl, isPublicAddress, OutboundUrlRefused } from '../../src/net/outbound-url.js';

/** The address rule of outbound URLs (webhooks): only public addresses, https only, unless allowed. */
const closed = { allowPrivate: false };

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.0.1',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
    '198.18.0.1',
    '::1',
    '::',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '64:ff9b::10.0.0.1',
    '2001:db8::1',
    'not an address',
  ])('refuses %s', (address) => expect(isPublicAddress(address)).toBe(false));

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
  ])('accepts %s', (address) => expect(isPublicAddress(address)).toBe(true));
});

describe('assertPublicUrl', () => {
  it.each([
    'http://93.184.216.34/hook',
    'https://127.0.0.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]:8443/x',
    'https://[fd00:ec2::254]/x',
    'https://10.0.0.1/x',
    'ftp://93.184.216.34/x',
    'https://user:pw@93.184.216.34/x',
    'nonsense',
  ])('refuses %s without the flag', async (url) => {
    await expect(assertPublicUrl(url, closed)).rejects.toBeInstanceOf(OutboundUrlRefused);
  });

  it('accepts a public https address literal and answers it', async () => {
    expect(await assertPublicUrl('https://93.184.216.34/hook', closed)).toEqual([
      { address: '93.184.216.34', family: 4 },
    ]);
  });

  it('MNEMO_ALLOW_PRIVATE_URLS lifts both rules (http, loopback)', async () => {
    expect(await assertPublicUrl('http://127.0.0.1:9/hook', { allowPrivate: true })).toEqual([
      { address: '127.0.0.1', family: 4 },
    ]);
  });
});
