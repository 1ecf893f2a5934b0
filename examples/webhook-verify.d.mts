// Types of webhook-verify.mjs, for TypeScript receivers and this repo's tests.
export declare const TOLERANCE_S: number;
export declare function verifyWebhook(
  secret: string,
  header: string | null,
  rawBody: string,
  nowMs?: number,
): Promise<{ ok: true; timestamp: number } | { ok: false; reason: string }>;
export declare class SeenDeliveries {
  firstTime(id: string, nowMs?: number): boolean;
}
