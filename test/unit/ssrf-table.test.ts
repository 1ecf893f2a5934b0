// Issue #10: every address and name form the SSRF guard must refuse, with public controls, spelt
// as a request URL and judged through `new URL(u).hostname` exactly as `blockedTarget` does.
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { blockedTarget, isPrivateHost } from '../../src/lib/ssrf';

const BLOCKED = true;
const ALLOWED = false;

const TABLE: readonly (readonly [url: string, blocked: boolean])[] = [
  // 6to4 2002::/16: the IPv4 gateway sits in bits 16..47.
  ['http://[2002:7f00:1::]/', BLOCKED],
  ['http://[2002:a9fe:a9fe::]/', BLOCKED],
  ['http://[2002:c0a8:101::1]/', BLOCKED],
  ['http://[2002:a00:1:1::]/', BLOCKED],
  ['http://[2002:c000:201::]/', BLOCKED],
  ['http://[2002:808:808::1]/', ALLOWED],
  ['http://[2002:101:101::]/', ALLOWED],
  // NAT64 well-known 64:ff9b::/96 (embedded IPv4) and local-use 64:ff9b:1::/48 (all of it).
  ['http://[64:ff9b::7f00:1]/', BLOCKED],
  ['http://[64:ff9b::127.0.0.1]/', BLOCKED],
  ['http://[64:ff9b::a9fe:a9fe]/', BLOCKED],
  ['http://[64:ff9b::c633:6401]/', BLOCKED],
  ['http://[64:ff9b:1::a9fe:a9fe]/', BLOCKED],
  ['http://[64:ff9b:1::808:808]/', BLOCKED],
  ['http://[64:ff9b::808:808]/', ALLOWED],
  // IPv4-mapped ::ffff:0:0/96.
  ['http://[::ffff:127.0.0.1]/', BLOCKED],
  ['http://[::ffff:a9fe:a9fe]/', BLOCKED],
  ['http://[::ffff:192.0.0.192]/', BLOCKED],
  ['http://[::ffff:808:808]/', ALLOWED],
  // IPv4-translated ::ffff:0:0:0/96.
  ['http://[::ffff:0:7f00:1]/', BLOCKED],
  ['http://[::ffff:0:a00:1]/', BLOCKED],
  ['http://[::ffff:0:f000:1]/', BLOCKED],
  ['http://[::ffff:0:808:808]/', ALLOWED],
  // IPv4-compatible ::/96.
  ['http://[::7f00:1]/', BLOCKED],
  ['http://[::a9fe:a9fe]/', BLOCKED],
  ['http://[::c0a8:1]/', BLOCKED],
  ['http://[::808:808]/', ALLOWED],
  // Teredo 2001::/32: the whole prefix, whatever the (obfuscated) client address.
  ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', BLOCKED],
  ['http://[2001::1]/', BLOCKED],
  ['http://[2001:0:ffff:ffff:ffff:ffff:ffff:ffff]/', BLOCKED],
  // Other non-global IPv6.
  ['http://[2001:db8::1]/', BLOCKED],
  ['http://[2001:db8:ffff:ffff::1]/', BLOCKED],
  ['http://[3fff::1]/', BLOCKED],
  ['http://[2001:2::1]/', BLOCKED],
  ['http://[100::1]/', BLOCKED],
  ['http://[fc00::1]/', BLOCKED],
  ['http://[fd00:ec2::254]/', BLOCKED],
  ['http://[fe80::1]/', BLOCKED],
  ['http://[febf:ffff::1]/', BLOCKED],
  ['http://[fec0::1]/', BLOCKED],
  ['http://[ff02::1]/', BLOCKED],
  ['http://[ff0e::1]/', BLOCKED],
  ['http://[::1]/', BLOCKED],
  ['http://[0:0:0:0:0:0:0:1]/', BLOCKED],
  ['http://[::]/', BLOCKED],
  // Public IPv6 controls, including the first prefix past 2001::/23.
  ['http://[2606:4700::1111]/', ALLOWED],
  ['http://[2001:4860:4860::8888]/', ALLOWED],
  ['http://[2a00:1450:4001:80b::200e]/', ALLOWED],
  ['http://[2001:200::1]/', ALLOWED],
  // Reserved and documentation IPv4.
  ['http://192.0.0.192/', BLOCKED],
  ['http://192.0.0.1/', BLOCKED],
  ['http://192.0.2.1/', BLOCKED],
  ['http://198.51.100.7/', BLOCKED],
  ['http://203.0.113.9/', BLOCKED],
  ['http://198.18.0.1/', BLOCKED],
  ['http://198.19.255.254/', BLOCKED],
  ['http://240.0.0.1/', BLOCKED],
  ['http://250.1.2.3/', BLOCKED],
  ['http://255.255.255.254/', BLOCKED],
  ['http://255.255.255.255/', BLOCKED],
  ['http://192.88.99.1/', BLOCKED],
  // The ranges the guard already refused.
  ['http://127.0.0.1/', BLOCKED],
  ['http://0x7f.1/', BLOCKED],
  ['http://2130706433/', BLOCKED],
  ['http://10.1.2.3/', BLOCKED],
  ['http://172.16.5.4/', BLOCKED],
  ['http://192.168.0.1/', BLOCKED],
  ['http://169.254.169.254/', BLOCKED],
  ['http://100.64.0.1/', BLOCKED],
  ['http://0.0.0.0/', BLOCKED],
  ['http://224.0.0.251/', BLOCKED],
  // Public IPv4 controls, including neighbours of the reserved nets.
  ['http://8.8.8.8/', ALLOWED],
  ['http://1.1.1.1/', ALLOWED],
  ['http://192.0.1.1/', ALLOWED],
  ['http://192.0.3.1/', ALLOWED],
  ['http://198.51.99.1/', ALLOWED],
  ['http://203.0.114.1/', ALLOWED],
  ['http://198.20.0.1/', ALLOWED],
  ['http://223.255.255.255/', ALLOWED],
  ['http://100.128.0.1/', ALLOWED],
  // Names that only resolve inside a private network.
  ['http://metadata/', BLOCKED],
  ['http://intranet/', BLOCKED],
  ['http://printer./', BLOCKED],
  ['http://localhost/', BLOCKED],
  ['http://localhost./', BLOCKED],
  ['http://ip6-localhost/', BLOCKED],
  ['http://ip6-loopback/', BLOCKED],
  ['http://localhost.localdomain/', BLOCKED],
  ['http://router.lan/', BLOCKED],
  ['http://ROUTER.LAN./', BLOCKED],
  ['http://nas.home.arpa/', BLOCKED],
  ['http://home.arpa/', BLOCKED],
  ['http://printer.local/', BLOCKED],
  ['http://app.localhost/', BLOCKED],
  ['http://metadata.google.internal/', BLOCKED],
  ['http://wiki.intranet/', BLOCKED],
  ['http://mail.corp/', BLOCKED],
  ['http://vault.private/', BLOCKED],
  // Public name controls: the private words as labels elsewhere, or as parts of a label.
  ['http://example.com/', ALLOWED],
  ['http://www.example.com./', ALLOWED],
  ['http://lan.example.com/', ALLOWED],
  ['http://corp.example.com/', ALLOWED],
  ['http://private.example.org/', ALLOWED],
  ['http://localhost.example.com/', ALLOWED],
  ['http://home.arpa.example.net/', ALLOWED],
  ['http://myprivate.com/', ALLOWED],
  ['http://bücher.de/', ALLOWED],
];

describe('isPrivateHost: the table of issue #10', () => {
  it('runs ipaddr.js in workerd', () => {
    expect(ipaddr.parse('2002:7f00:1::').range()).toBe('6to4');
    expect(ipaddr.parse('192.0.2.1').range()).toBe('reserved');
  });

  it('has at least 60 rows, all distinct', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(60);
    expect(new Set(TABLE.map(([url]) => url)).size).toBe(TABLE.length);
  });

  it.each(TABLE)('%s blocked: %s', (url, blocked) => {
    const parsed = new URL(url);
    expect(isPrivateHost(parsed.hostname)).toBe(blocked);
    expect(blockedTarget(parsed)).toBe(blocked);
  });
});
