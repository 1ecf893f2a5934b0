/** The two lowercase hex digits of every byte value. */
const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b.toString(16).padStart(2, '0'),
);

/**
 * Lowercase hex of bytes, two digits each (digests and MACs as they are shown and compared).
 * Every page's content hash goes through here, so it is a table lookup per byte.
 */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (const b of view) out += BYTE_HEX[b];
  return out;
}
