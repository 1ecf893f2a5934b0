import type { JobView } from '../jobs/types';

export const CALLBACK_MAX_ATTEMPTS = 5;
const CALLBACK_TIMEOUT_MS = 10_000;

/** Signs a body with HMAC-SHA256 so a receiver can check it came from us. */
export async function signBody(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** POSTs a terminal job's status to its callbackUrl; true when the receiver answered 2xx. */
export async function deliverCallback(
  url: string,
  view: JobView,
  secret: string | undefined,
): Promise<boolean> {
  const body = JSON.stringify(view);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret) headers['x-scrape-fanout-signature'] = `sha256=${await signBody(secret, body)}`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
