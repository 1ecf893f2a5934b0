// Verifies a scrape-fanout job callback. Web Crypto only, so it runs unchanged in Node >= 20,
// Deno, Bun and Cloudflare Workers. See docs/webhooks.md.

/** Deliveries signed longer ago than this are refused: a captured one cannot be replayed later. */
export const TOLERANCE_S = 300;

/**
 * Checks `X-Scrape-Fanout-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
 * against the raw request body (the exact bytes received, before any JSON parsing).
 * @param {string} secret the service's WEBHOOK_SECRET
 * @param {string | null} header the X-Scrape-Fanout-Signature header
 * @param {string} rawBody the request body as received
 * @param {number} [nowMs] the current time (for tests)
 * @returns {Promise<{ ok: true, timestamp: number } | { ok: false, reason: string }>}
 */
export async function verifyWebhook(secret, header, rawBody, nowMs = Date.now()) {
  const parts = new Map();
  for (const part of (header ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) {
    return { ok: false, reason: 'malformed signature header' };
  }
  const age = nowMs / 1000 - Number(t);
  if (Math.abs(age) > TOLERANCE_S) return { ok: false, reason: 'timestamp outside 5 minutes' };
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    enc.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  const mac = Uint8Array.from(v1.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
  // subtle.verify compares in constant time.
  const good = await crypto.subtle.verify('HMAC', key, mac, enc.encode(`${t}.${rawBody}`));
  return good ? { ok: true, timestamp: Number(t) } : { ok: false, reason: 'bad signature' };
}

/**
 * Remembers delivery ids for the tolerance window, to drop the retries of an event already
 * handled. Older entries can go: a delivery that old is refused by its timestamp anyway.
 */
export class SeenDeliveries {
  /** @type {Map<string, number>} delivery id -> when it was first seen (ms) */
  #seen = new Map();

  /**
   * True the first time an id is offered within the window.
   * @param {string} id
   * @param {number} [nowMs]
   */
  firstTime(id, nowMs = Date.now()) {
    for (const [old, at] of this.#seen) {
      if (nowMs - at <= TOLERANCE_S * 1000) break;
      this.#seen.delete(old);
    }
    if (this.#seen.has(id)) return false;
    this.#seen.set(id, nowMs);
    return true;
  }
}
