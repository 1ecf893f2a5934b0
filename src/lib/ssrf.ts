/**
 * SSRF screening by host name alone. Pass `new URL(x).hostname`: the WHATWG parser has already
 * turned decimal, hex, octal and short IPv4 forms ("2130706433", "0x7f.1") into dotted quads and
 * compressed IPv6, so only canonical literals need recognising here. Names that merely resolve
 * to private addresses are not caught (Workers cannot resolve DNS); this blocks the literal and
 * conventional cases.
 */

const PRIVATE_SUFFIXES = ['.localhost', '.local', '.internal'];

/** Whether a URL hostname names loopback, private, link-local or otherwise non-public space. */
export function isPrivateHost(hostname: string): boolean {
  let host = hostname.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  // "localhost." is the same name as "localhost" to a resolver.
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '') return true;

  if (host === 'localhost') return true;
  if (PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix))) return true;

  const v4 = parseIPv4(host);
  if (v4 !== null) return isPrivateIPv4(v4);
  if (host.includes(':')) {
    const v6 = parseIPv6(host);
    // Something with a colon that is not valid IPv6 cannot be a public name either.
    return v6 === null || isPrivateIPv6(v6);
  }
  return false;
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

// [network, prefix length]; 224/4 covers multicast, 240/4 reserved and the broadcast address.
const PRIVATE_V4: readonly (readonly [number, number])[] = [
  [v4(0, 0, 0, 0), 8],
  [v4(10, 0, 0, 0), 8],
  [v4(100, 64, 0, 0), 10],
  [v4(127, 0, 0, 0), 8],
  [v4(169, 254, 0, 0), 16],
  [v4(172, 16, 0, 0), 12],
  [v4(192, 168, 0, 0), 16],
  [v4(198, 18, 0, 0), 15],
  [v4(224, 0, 0, 0), 3],
];

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function isPrivateIPv4(address: number): boolean {
  return PRIVATE_V4.some(([network, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return (address & mask) >>> 0 === network;
  });
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
  const embeddedV4 = ((g6 << 16) | g7) >>> 0;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;

  if (upperZero && g5 === 0) {
    // "::" and "::1", and the deprecated IPv4-compatible form "::a.b.c.d", which some stacks
    // still route to the embedded IPv4 address.
    if (g6 === 0 && g7 <= 1) return true;
    return isPrivateIPv4(embeddedV4);
  }
  // IPv4-mapped ::ffff:a.b.c.d reaches the embedded IPv4 address.
  if (upperZero && g5 === 0xffff) return isPrivateIPv4(embeddedV4);
  // NAT64 well-known prefix 64:ff9b::/96 also forwards to the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return isPrivateIPv4(embeddedV4);
  }
  if ((g0 & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g0 & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g0 & 0xffc0) === 0xfec0) return true; // fec0::/10 deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  return false;
}

/** The SSRF guard of a request the service makes: true for a URL it must not reach. */
export function blockedTarget(url: URL): boolean {
  return isPrivateHost(url.hostname);
}
