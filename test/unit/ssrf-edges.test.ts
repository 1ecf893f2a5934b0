// The SSRF screen at its edges: spelling of names, IPv6 forms with zones and embedded IPv4,
// and each part of the IPv4-compatible, IPv4-mapped and NAT64 prefixes.
import { describe, expect, it } from 'vitest';
import { isPrivateHost, parseIPv4, parseIPv6 } from '../../src/lib/ssrf';

describe('isPrivateHost: spelling', () => {
  it('trims and lower-cases the name, and strips brackets only in pairs', () => {
    expect(isPrivateHost('LOCALHOST')).toBe(true);
    expect(isPrivateHost(' localhost ')).toBe(true);
    expect(isPrivateHost('[::1]')).toBe(true);
    expect(isPrivateHost('x127.0.0.1]')).toBe(false);
    expect(isPrivateHost('[127.0.0.1x')).toBe(false);
  });
});

describe('parseIPv4 and parseIPv6', () => {
  it('takes only digits in a dotted quad', () => {
    expect(parseIPv4('1a.0.0.1')).toBeNull();
    expect(parseIPv4('1.0.0.1a')).toBeNull();
  });

  it('drops a zone id', () => {
    expect(parseIPv6('fe80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('refuses a bad embedded IPv4 address', () => {
    expect(parseIPv6('::1.2.3')).toBeNull();
    expect(parseIPv6('::ffff:1.2.3.256')).toBeNull();
  });

  it('keeps the :: before an embedded IPv4 address anywhere', () => {
    expect(parseIPv6('1::1.2.3.4')).toEqual([1, 0, 0, 0, 0, 0, 0x0102, 0x0304]);
  });

  it('lets :: stand for a single zero group', () => {
    expect(parseIPv6('1:2:3:4:5:6:7::')).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(parseIPv6('1:2:3:4:5:6:7:8::')).toBeNull();
  });
});

describe('isPrivateHost: IPv6 forms that embed IPv4', () => {
  const cases: [string, boolean][] = [
    // IPv4-compatible ::a.b.c.d: the upper 96 bits must all be zero.
    ['::7f00:1', true],
    ['::8.8.8.8', false],
    ['::8.8.0.1', false],
    ['0:1::1', false],
    ['0:0:1::1', false],
    ['0:0:0:1::1', false],
    ['0:0:0:0:1::1', false],
    ['::1:0:1', false],
    ['::1:7f00:1', false],
    // IPv4-mapped ::ffff:a.b.c.d: only under 80 zero bits.
    ['::ffff:127.0.0.1', true],
    ['1::ffff:127.0.0.1', false],
    // NAT64 64:ff9b::/96: every group of the prefix counts.
    ['64:ff9b::127.0.0.1', true],
    ['65:ff9b::7f00:1', false],
    ['64:1::7f00:1', false],
    // The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) is not globally reachable at all.
    ['64:ff9b:1::7f00:1', true],
    ['64:ff9b:1::808:808', true],
    ['64:ff9b:0:1::7f00:1', false],
    ['64:ff9b:0:0:1:0:7f00:1', false],
    ['64:ff9b::1:7f00:1', false],
  ];
  for (const [host, blocked] of cases) {
    it(`${blocked ? 'blocks' : 'allows'} [${host}]`, () => {
      expect(isPrivateHost(`[${host}]`)).toBe(blocked);
    });
  }
});
