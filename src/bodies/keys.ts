/** A stored body's name: the lowercase hex SHA-256 of its bytes. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Every object of a job lives under this prefix, so deleting the job lists exactly it. */
export function jobPrefix(jobId: string): string {
  return `${jobId}/`;
}

/** Where a job's body of this hash is kept. */
export function bodyKey(jobId: string, sha256Hex: string): string {
  return `${jobPrefix(jobId)}${sha256Hex}`;
}

/**
 * Where a body too large for one part is assembled before its hash is known. Under the job's
 * prefix (so a leftover goes with the job) and never 64 hex characters (so no route reads it).
 */
export function tempKey(jobId: string): string {
  return `${jobPrefix(jobId)}tmp/${crypto.randomUUID()}`;
}
