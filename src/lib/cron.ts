import { Cron } from 'croner';

/**
 * Standard 5-field cron expressions (minute hour day-of-month month day-of-week), always in UTC.
 * croner does the date arithmetic; this module first holds the syntax to what classic cron
 * accepts (numbers, `*`, ranges, `/steps`, lists, three-letter month and day names), so that
 * croner's extensions (`?`, `L`, `W`, `#`, seconds, years) are refused instead of silently
 * meaning something another cron would not. Day-of-month and day-of-week combine with OR when
 * both are restricted, as in Vixie cron.
 */

type CronCheck = { ok: true; cron: string } | { ok: false; message: string };

const FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;
const VALUE = '(?:\\d{1,2}|[a-z]{3})';
const ITEM = new RegExp(`^(?:\\*|${VALUE}(?:-${VALUE})?)(?:/\\d{1,2})?$`, 'i');
const MAX_LENGTH = 200;

function compile(expr: string): Cron {
  return new Cron(expr, { mode: '5-part', timezone: 'UTC' });
}

/** Validates a cron expression; on success returns it with whitespace collapsed. */
export function parseCron(raw: string): CronCheck {
  if (raw.length > MAX_LENGTH) return { ok: false, message: `at most ${MAX_LENGTH} characters` };
  const fields = raw.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    return {
      ok: false,
      message: `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    };
  }
  for (const [i, field] of fields.entries()) {
    for (const item of field.split(',')) {
      if (!ITEM.test(item)) {
        return { ok: false, message: `${FIELD_NAMES[i]}: '${item}' is not standard cron syntax` };
      }
    }
  }
  const cron = fields.join(' ');
  let compiled: Cron;
  try {
    compiled = compile(cron);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, message: message.replace(/^CronPattern:\s*/, '') };
  }
  // Years of lookahead cover 29 February; an expression such as `0 0 31 2 *` never fires.
  if (compiled.nextRun(new Date(0)) === null) return { ok: false, message: 'never fires' };
  return { ok: true, cron };
}

/** The first run strictly after `afterMs` (UTC, whole minutes), or null if there is none. */
export function nextRunAfter(cron: string, afterMs: number): number | null {
  return compile(cron).nextRun(new Date(afterMs))?.getTime() ?? null;
}

/** The latest run at or before `atMs`, or null if there is none. */
export function latestRunAtOrBefore(cron: string, atMs: number): number | null {
  // Runs fall on whole minutes, so looking back from one second past the minute that holds
  // `atMs` finds a run at that very minute too, and nothing later than `atMs`.
  const minute = Math.floor(atMs / 60_000) * 60_000;
  const prev = compile(cron).previousRuns(1, new Date(minute + 1000))[0];
  return prev ? prev.getTime() : null;
}
