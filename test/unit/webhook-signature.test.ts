// The callback's signature header and delivery id, and the receiver check of docs/webhooks.md
// (examples/webhook-verify.mjs) against them: what a receiver must accept and must refuse.
import { describe, expect, it } from 'vitest';
import { SeenDeliveries, verifyWebhook } from '../../examples/webhook-verify.mjs';
import { deliveryId, signatureHeader, signBody } from '../../src/coordinator/callback';

const SECRET = 'whsec-test';
const BODY = '{"id":"j1","status":"completed"}';
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('signatureHeader', () => {
  it('is t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>">', async () => {
    const t = NOW / 1000;
    expect(await signatureHeader(SECRET, BODY, NOW + 999)).toBe(
      `t=${t},v1=${await signBody(SECRET, `${t}.${BODY}`)}`,
    );
  });

  it('changes with the time, so a later attempt is signed anew', async () => {
    const a = await signatureHeader(SECRET, BODY, NOW);
    const b = await signatureHeader(SECRET, BODY, NOW + 60_000);
    expect(a.slice(a.indexOf('v1='))).not.toBe(b.slice(b.indexOf('v1=')));
  });

  it('the delivery id is the job id and the event, the same for every attempt', () => {
    expect(deliveryId('j0abc')).toBe('j0abc.job.completed');
  });
});

describe('verifyWebhook (the receiver of docs/webhooks.md)', () => {
  it('accepts a fresh signature, up to 5 minutes old', async () => {
    const header = await signatureHeader(SECRET, BODY, NOW);
    expect(await verifyWebhook(SECRET, header, BODY, NOW)).toEqual({
      ok: true,
      timestamp: NOW / 1000,
    });
    expect((await verifyWebhook(SECRET, header, BODY, NOW + 300_000)).ok).toBe(true);
  });

  it('refuses a replay after 5 minutes, a changed body or time, another secret, a bad header', async () => {
    const header = await signatureHeader(SECRET, BODY, NOW);
    const refused = async (h: string | null, body = BODY, secret = SECRET, now = NOW) =>
      (await verifyWebhook(secret, h, body, now)) as { ok: boolean; reason?: string };
    expect(await refused(header, BODY, SECRET, NOW + 301_000)).toEqual({
      ok: false,
      reason: 'timestamp outside 5 minutes',
    });
    expect(await refused(header, BODY.replace('completed', 'failed'))).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    // The timestamp is inside the MAC: moving it forward breaks the signature.
    const moved = header.replace(`t=${NOW / 1000}`, `t=${NOW / 1000 + 60}`);
    expect(await refused(moved, BODY, SECRET, NOW + 60_000)).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    expect((await refused(header, BODY, 'other-secret')).reason).toBe('bad signature');
    for (const bad of [null, '', `sha256=${'0'.repeat(64)}`, `t=${NOW / 1000}`, 't=x,v1=00']) {
      expect((await refused(bad)).reason).toBe('malformed signature header');
    }
  });

  it('SeenDeliveries drops a repeat inside the window and forgets it after', () => {
    const seen = new SeenDeliveries();
    expect(seen.firstTime('j1.job.completed', NOW)).toBe(true);
    expect(seen.firstTime('j1.job.completed', NOW + 1_000)).toBe(false);
    expect(seen.firstTime('j2.job.completed', NOW + 2_000)).toBe(true);
    expect(seen.firstTime('j1.job.completed', NOW + 301_000)).toBe(true);
  });
});
