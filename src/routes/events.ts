import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { TERMINAL_STATUSES } from '../jobs/types';
import { coordinatorFor, found, ownerScope } from './job-stub';

const INTERVAL_MS = 1_000;
/** A stream never outlives this; clients reconnect (EventSource does it by itself). */
const MAX_STREAM_MS = 15 * 60_000;

export const eventRoutes = new Hono<AppEnv>();

/** Server-sent progress: one `progress` event a second, then `end` with the final status. */
eventRoutes.get('/:id/events', async (c) => {
  const id = c.req.param('id');
  const stub = coordinatorFor(c.env, id);
  const owner = ownerScope(c);
  found(await stub.view(owner), id);
  const enc = new TextEncoder();
  const started = Date.now();
  let last: { at: number; settled: number } | null = null;
  let first = true;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!first) await new Promise((r) => setTimeout(r, INTERVAL_MS));
      first = false;
      const view = await stub.view(owner);
      if (!view) {
        controller.close();
        return;
      }
      const now = Date.now();
      const { succeeded, failed, cancelled } = view.counts;
      const settled = succeeded + failed + cancelled;
      const rate = last ? ((settled - last.settled) * 1000) / Math.max(1, now - last.at) : 0;
      last = { at: now, settled };
      const done = TERMINAL_STATUSES.includes(view.status);
      const payload = { ...view, ratePerSec: Math.round(rate * 10) / 10 };
      const event = done ? 'end' : 'progress';
      controller.enqueue(enc.encode(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`));
      if (done || now - started > MAX_STREAM_MS) controller.close();
    },
  });
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    },
  });
});
