import { describe, expect, it } from 'vitest';
import { isPrivateHost, parseIPv4, parseIPv6 } from '../../src/lib/ssrf';

// Callers pass `new URL(x).hostname`; going through the parser here proves the pairing works.
const hostOf = (url: string) => new URL(url).hostname;

describe('isPrivateHost', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'localhost.',
    'app.localhost',
    'printer.local',
    'metadata.google.internal',
    'db.internal.',
  ])('blocks the reserved name %s', (host) => {
    expect(isPrivateHost(host)).toBe(true);
  });

  it.each([
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '10.255.255.255',
    '100.64.0.1',
    '100.127.255.255',
    '127.0.0.1',
    '127.255.0.1',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '198.18.0.1',
    '198.19.255.255',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
  ])('blocks the private or reserved IPv4 %s', (host) => {
    expect(isPrivateHost(host)).toBe(true);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '126.255.255.255',
    '128.0.0.1',
    '169.253.0.1',
    '172.15.255.255',
    '172.32.0.1',
    '192.167.1.1',
    '192.169.0.1',
    '198.17.255.255',
    '198.20.0.1',
    '223.255.255.255',
  ])('allows the public IPv4 %s', (host) => {
    expect(isPrivateHost(host)).toBe(false);
  });

  it.each([
    '[::]',
    '[::1]',
    '::1',
    '[fc00::1]',
    '[fd12:3456:789a::1]',
    '[fe80::1]',
    '[febf:ffff::1]',
    '[fec0::1]',
    '[ff02::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[::ffff:a00:1]',
    '[::ffff:c0a8:101]',
    '[::ffff:a9fe:a9fe]',
    '[::127.0.0.1]',
    '[64:ff9b::a00:1]',
    '[0:0:0:0:0:0:0:1]',
    '[fe80::1%25eth0]',
  ])('blocks the private IPv6 %s', (host) => {
    expect(isPrivateHost(host)).toBe(true);
  });

  it.each([
    '[2001:4860:4860::8888]',
    '[2606:4700:4700::1111]',
    '[::ffff:808:808]',
    '[::ffff:8.8.8.8]',
    '[64:ff9b::808:808]',
    '[fbff::1]',
    '[fe7f::1]',
  ])('allows the public IPv6 %s', (host) => {
    expect(isPrivateHost(host)).toBe(false);
  });

  it.each([
    'example.com',
    'localhost.example.com',
    'local.example.com',
    'internal.example.com',
    // Ends in "local" but not in the ".local" label (a bare "mylocal" is a single label, refused).
    'printer.mylocal',
    '10.0.0.1.example.com',
  ])('allows the ordinary name %s', (host) => {
    expect(isPrivateHost(host)).toBe(false);
  });

  it('blocks the obfuscated IPv4 spellings once the URL parser has canonicalised them', () => {
    expect(hostOf('http://2130706433/')).toBe('127.0.0.1');
    for (const url of [
      'http://2130706433/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://0/',
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://[::ffff:127.0.0.1]/',
      'http://[0:0:0:0:0:ffff:7f00:1]/',
      'http://LocalHost./',
    ]) {
      expect(isPrivateHost(hostOf(url)), url).toBe(true);
    }
    expect(isPrivateHost(hostOf('http://0x08080808/'))).toBe(false);
  });

  it('blocks colon-bearing hosts that are not valid IPv6 rather than guessing', () => {
    expect(isPrivateHost('[1:2:3]')).toBe(true);
    expect(isPrivateHost('')).toBe(true);
  });
});

describe('address parsers', () => {
  it('parses dotted quads only', () => {
    expect(parseIPv4('192.168.0.1')).toBe(0xc0a80001);
    expect(parseIPv4('256.0.0.1')).toBeNull();
    expect(parseIPv4('1.2.3')).toBeNull();
    expect(parseIPv4('a.b.c.d')).toBeNull();
  });

  it('expands compressed IPv6 and embedded IPv4', () => {
    expect(parseIPv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIPv6('::1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0, 0x102, 0x304]);
    expect(parseIPv6('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6(':::')).toBeNull();
    expect(parseIPv6('1:2:3:4:5:6:7::8')).toBeNull();
    expect(parseIPv6('12345::')).toBeNull();
  });
});
