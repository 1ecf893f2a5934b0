/**
 * SSRF screening by host name alone. Pass `new URL(x).hostname`: the WHATWG parser has already
 * turned decimal, hex, octal and short IPv4 forms ("2130706433", "0x7f.1") into dotted quads and
 * compressed IPv6, so only canonical literals need recognising here. Names that merely resolve
 * to private addresses are not caught (Workers cannot resolve DNS); this blocks the literal and
 * conventional cases.
 *
 * Address ranges are named by ipaddr.js (`range()`); everything outside its plain 'unicast'
 * space and the few globally reachable anycast services is refused, and IPv6 forms that carry an
 * IPv4 address (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64, 6to4) are judged by it.
 */
import ipaddr from 'ipaddr.js';

/** Names that only ever resolve on the machine itself. */
const PRIVATE_NAMES = new Set([
  'localhost',
  'ip6-localhost',
  'ip6-loopback',
  'localhost.localdomain',
]);

/** Special-use and de facto private suffixes (RFC 6761, RFC 6762, RFC 8375, ICANN .internal). */
const PRIVATE_SUFFIXES = [
  '.localhost',
  '.local',
  '.localdomain',
  '.internal',
  '.lan',
  '.home.arpa',
  '.intranet',
  '.corp',
  '.private',
];

/** Whether a URL hostname names loopback, private, link-local or otherwise non-public space. */
export function isPrivateHost(hostname: string): boolean {
  let host = hostname.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  // "localhost." is the same name as "localhost" to a resolver.
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '') return true;

  const v4 = parseIPv4(host);
  if (v4 !== null) return isPrivateIPv4(v4);
  if (host.includes(':')) {
    const v6 = parseIPv6(host);
    // Something with a colon that is not valid IPv6 cannot be a public name either.
    return v6 === null || isPrivateIPv6(v6);
  }
  return isPrivateName(host);
}

/** Whether a (lower-cased, dot-trimmed) DNS name can only resolve inside a private network. */
function isPrivateName(host: string): boolean {
  // A single label ("metadata", "intranet") is completed by the resolver's search domains.
  if (!host.includes('.')) return true;
  if (PRIVATE_NAMES.has(host)) return true;
  return PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix) || host === suffix.slice(1));
}

/** Parses a dotted-quad IPv4 literal into a 32-bit unsigned number, or null. */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** ipaddr.js range names that are globally reachable; any other range is refused. */
const PUBLIC_RANGES = new Set(['unicast', 'as112', 'amt', 'as112v6']);

/**
 * Whether an IPv4 address (32-bit unsigned) is outside public unicast space: 0/8, RFC 1918,
 * loopback, link-local, CGNAT, 192.0.0/24, the documentation and benchmarking nets, 6to4 relay
 * anycast, multicast, 240/4 and broadcast.
 */
function isPrivateIPv4(address: number): boolean {
  const octets = [address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff];
  return !PUBLIC_RANGES.has(new ipaddr.IPv4(octets).range());
}

/** Parses an IPv6 literal (no brackets, optional trailing dotted IPv4) into 8 groups, or null. */
export function parseIPv6(text: string): number[] | null {
  let body = text;
  // A zone id ("fe80::1%eth0") only ever qualifies link-local addresses.
  const zone = body.indexOf('%');
  if (zone >= 0) body = body.slice(0, zone);

  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (last.includes('.')) {
    const embedded = parseIPv4(last);
    if (embedded === null) return null;
    tail = [embedded >>> 16, embedded & 0xffff];
    // Keep the colon when it is half of "::" so the compression stays visible.
    body = body.slice(0, body.endsWith(`::${last}`) ? lastColon + 1 : lastColon);
  }

  const halves = body.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === null || rest === null) return null;
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 1) {
    return explicit === 8 ? [...head, ...tail] : null;
  }
  if (explicit > 7) return null;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail];
}

function parseGroups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  for (const group of text.split(':')) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    groups.push(Number.parseInt(group, 16));
  }
  return groups;
}

function isPrivateIPv6(g: number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const lowV4 = ((g6 << 16) | g7) >>> 0;

  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    // "::" and "::1", and the deprecated IPv4-compatible form "::a.b.c.d", which some stacks
    // still route to the embedded IPv4 address.
    if (g6 === 0 && g7 <= 1) return true;
    return isPrivateIPv4(lowV4);
  }
  const range = new ipaddr.IPv6(g).range();
  switch (range) {
    // IPv4-mapped ::ffff:0:0/96 and IPv4-translated ::ffff:0:0:0/96 reach the IPv4 address.
    case 'ipv4Mapped':
    case 'rfc6145':
      return isPrivateIPv4(lowV4);
    // NAT64: the well-known 64:ff9b::/96 forwards to the embedded IPv4 address; the local-use
    // 64:ff9b:1::/48 (RFC 8215) is not globally reachable and its IPv4 position varies.
    case 'rfc6052':
      return g2 !== 0 || isPrivateIPv4(lowV4);
    // 6to4 2002::/16 carries its IPv4 gateway in bits 16..47.
    case '6to4':
      return isPrivateIPv4(((g1 << 16) | g2) >>> 0);
    // Everything else by name: Teredo 2001::/32 (its client address is obfuscated), ULA,
    // link-local, site-local, multicast, documentation 2001:db8::/32 and 3fff::/20, discard,
    // benchmarking, ORCHID, segment routing and the rest of 2001::/23 are refused.
    default:
      return !PUBLIC_RANGES.has(range);
  }
}

/** The SSRF guard of a request the service makes: true for a URL it must not reach. */
export function blockedTarget(url: URL): boolean {
  return isPrivateHost(url.hostname);
}
