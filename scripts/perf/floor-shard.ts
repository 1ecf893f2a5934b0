import { DurableObject } from 'cloudflare:workers';
import { fetchPage } from '../../src/fetch/fetch-page';

export interface FloorRun {
  ms: number;
  failed: number;
  firstError: string;
}

/**
 * The runtime's own floor for a job (bench/floor.mjs): a fixed share of the URLs fetched with
 * fetchPage by a fixed number of connections, no coordinator, no storage, no reporting.
 */
export class FloorShard extends DurableObject {
  /** Fetches `${url}&i=from .. from+n-1`, `slots` at a time. */
  async run(url: string, from: number, n: number, slots: number): Promise<FloorRun> {
    const started = Date.now();
    let next = 0;
    let failed = 0;
    let firstError = '';
    const slot = async (): Promise<void> => {
      while (next < n) {
        const i = from + next++;
        const out = await fetchPage({
          url: `${url}${url.includes('?') ? '&' : '?'}i=${i}`,
          timeoutMs: 30_000,
          maxBytes: 5_000_000,
          selectors: {},
        });
        if (!out.ok) {
          failed++;
          firstError ||= `${out.kind}: ${out.message}`;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(slots, n) }, slot));
    return { ms: Date.now() - started, failed, firstError };
  }
}
