import { describe, expect, it } from 'vitest';
import { signBody } from '../../src/coordinator/callback';
import { toHex } from '../../src/lib/hex';
import { sha256Hex } from '../../src/lib/ids';

describe('toHex', () => {
  it('writes every byte as two lowercase digits, leading zeros kept', () => {
    expect(toHex(new Uint8Array([0, 1, 15, 16, 127, 128, 171, 255]))).toBe('00010f107f80abff');
    expect(toHex(new Uint8Array([0x0a, 0x0b]).buffer)).toBe('0a0b');
    expect(toHex(new ArrayBuffer(0))).toBe('');
  });

  it('writes each of the 256 byte values as its own two digits', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(all);
    expect(hex).toHaveLength(512);
    for (let b = 0; b < 256; b++) expect(Number.parseInt(hex.slice(2 * b, 2 * b + 2), 16)).toBe(b);
    expect(hex).toMatch(/^[0-9a-f]+$/);
  });

  it('reads only the bytes a view covers', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    expect(toHex(bytes.subarray(1, 3))).toBe('0203');
  });
});

describe('digests in hex', () => {
  it('sha256Hex matches the FIPS 180-2 test vectors', async () => {
    expect(await sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(await sha256Hex('')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('signBody is HMAC-SHA256 (RFC 4231, test case 2)', async () => {
    expect(await signBody('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});
