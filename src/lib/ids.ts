import { toHex } from './hex';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A new job id: time-ordered (base36 milliseconds) then 12 random characters. */
export function newJobId(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 36];
  return `j${now.toString(36).padStart(9, '0')}${rand}`;
}

/**
 * Whether a path segment can be a job id at all (cheap 404 before touching storage). `k` ids
 * were given to Idempotency-Key jobs before keys were stored (they were derived from the token).
 */
export function isJobId(id: string): boolean {
  return /^[jk][0-9a-z]{21,24}$/.test(id);
}

/** Hex SHA-256 of a string. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** A short random token, for shard run ids. */
export function randomToken(): string {
  return crypto.randomUUID().replaceAll('-', '').slice(0, 16);
}
