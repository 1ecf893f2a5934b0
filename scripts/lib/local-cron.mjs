// The local stand-in for Cloudflare's cron trigger under `npm start`: at the start of every
// minute it fires the worker's scheduled() handler through wrangler dev's trigger endpoint,
// with that minute as the scheduled time, so due schedules start their jobs by themselves.

/** Wrangler dev's endpoint that runs scheduled() (`time` sets the ScheduledController's time). */
const TRIGGER_PATH = '/cdn-cgi/local/scheduled';
/** Fired this long after each minute begins, so the minute is surely the current one. */
const SKEW_MS = 1_000;
const MINUTE_MS = 60_000;

/**
 * The epoch ms of the next tick after `now`: a minute boundary plus SKEW_MS.
 * @param {number} now
 */
export function nextTickAt(now) {
  return Math.floor((now - SKEW_MS) / MINUTE_MS) * MINUTE_MS + MINUTE_MS + SKEW_MS;
}

/**
 * The URL that fires the minute beginning at `minuteMs` (the same minute twice is harmless).
 * @param {string} base @param {number} minuteMs
 */
export function triggerUrl(base, minuteMs) {
  return `${base}${TRIGGER_PATH}?cron=${encodeURIComponent('* * * * *')}&time=${minuteMs}`;
}

/**
 * Ticks `base` every minute until stopped. A tick that fails (the server still starting) is
 * reported once and the next minute tried anyway. Returns stop().
 * @param {string} base e.g. http://127.0.0.1:8787
 * @param {{ log?: (line: string) => void }} [options]
 */
export function startLocalCron(base, options = {}) {
  const log = options.log ?? ((line) => console.log(line));
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let warned = false;
  const schedule = () => {
    const at = nextTickAt(Date.now());
    timer = setTimeout(() => void tick(at - SKEW_MS), at - Date.now());
    timer.unref?.();
  };
  /** @param {number} minuteMs */
  const tick = async (minuteMs) => {
    schedule();
    try {
      const res = await fetch(triggerUrl(base, minuteMs), { signal: AbortSignal.timeout(50_000) });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      warned = false;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (!warned) log(`[local cron] the minute's tick failed: ${why}; retrying each minute`);
      warned = true;
    }
  };
  schedule();
  return () => clearTimeout(timer);
}
