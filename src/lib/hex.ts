/** Lowercase hex of bytes, two digits each (digests and MACs as they are shown and compared). */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}
