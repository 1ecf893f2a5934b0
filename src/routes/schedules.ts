import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { jobLimits } from '../jobs/schema';
import { sha256Hex } from '../lib/ids';
import { mapBounded } from '../lib/map-bounded';
import { isScheduleId, newScheduleId, SCHEDULE_ID } from '../lib/schedule-ids';
import { ApiError } from '../middleware/errors';
import { parseSchedule, schedulesPerKey } from '../schedules/schema';
import type { ScheduleDetailView, ScheduleRun, ScheduleRunView } from '../schedules/types';
import { ownerScope } from './job-stub';
import { invalidBody, readJsonBody } from './json-body';
import {
  LIST_DEFAULT_LIMIT,
  LIST_MAX_LIMIT,
  nextListCursor,
  parseLimit,
  readListCursor,
} from './paging';

/** Well above the largest job a schedule may hold (1,000,000 bytes of JSON) plus its name. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Job views read at once for a schedule's runs (at most RUNS_KEPT of them). */
const RUN_VIEWS_IN_FLIGHT = 6;

/**
 * Schedules. Each belongs to the caller that created it: an API key reaches only its own
 * (another's answers 404, as if absent), the admin reaches all.
 */
export const scheduleRoutes = new Hono<AppEnv>();

/** Creates a schedule; an API key holding MAX_SCHEDULES_PER_KEY already gets a 409. */
scheduleRoutes.post('/', async (c) => {
  const caller = c.var.caller;
  const { body } = await readJsonBody(c, 'schedule', MAX_BODY_BYTES);
  const parsed = parseSchedule(body, jobLimits(c.env), caller.maxConcurrency);
  if (!parsed.ok) throw invalidBody(parsed.issues, 'schedule');
  const cap = caller.admin ? null : schedulesPerKey(c.env.MAX_SCHEDULES_PER_KEY);
  const createdAt = Date.now();
  const made = await scheduler(c.env).create(
    {
      id: newScheduleId(createdAt),
      owner: caller.owner,
      name: parsed.name,
      cron: parsed.cron,
      jobText: parsed.jobText,
      jobHash: await sha256Hex(parsed.jobText),
      createdAt,
      compare: parsed.compare,
      notify: parsed.notify,
    },
    cap,
  );
  if (!made.ok) {
    const limit = `MAX_SCHEDULES_PER_KEY is ${cap}`;
    const message = `this API key already holds ${made.held} schedules (${limit}); delete one first`;
    throw new ApiError('conflict', message);
  }
  c.header('Location', `/v1/schedules/${made.view.id}`);
  return c.json(made.view, 201);
});

/** The caller's schedules (every schedule for the admin), newest first, paginated like jobs. */
scheduleRoutes.get('/', async (c) => {
  const limit = parseLimit(c.req.query('limit'), LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT);
  const after = readListCursor(c.req.query('cursor'), SCHEDULE_ID);
  const items = await scheduler(c.env).list(limit, after, ownerScope(c));
  const last = items.at(-1);
  const position = last && { createdAt: Date.parse(last.createdAt), id: last.id };
  return c.json({ items, nextCursor: nextListCursor(position, items.length, limit) });
});

scheduleRoutes.get('/:id', async (c) => {
  const id = c.req.param('id');
  const detail = isScheduleId(id) ? await scheduler(c.env).get(id, ownerScope(c)) : null;
  if (!detail) throw notFound(id);
  const { jobText, runs, ...view } = detail;
  const body: ScheduleDetailView = {
    ...view,
    job: JSON.parse(jobText) as unknown,
    runs: await withChanges(c.env, runs, ownerScope(c)),
  };
  return c.json(body);
});

/**
 * Deletes the schedule and its run history; jobs it started run on. Deleting is final, so a
 * repeated DELETE answers 404: the schedule is gone either way.
 */
scheduleRoutes.delete('/:id', async (c) => {
  const id = c.req.param('id');
  if (!isScheduleId(id) || !(await scheduler(c.env).remove(id, ownerScope(c)))) {
    throw notFound(id);
  }
  return c.json({ id, deleted: true });
});

/** Each run with its job's `changes`, read as `owner` reads jobs (the schedule's own jobs). */
function withChanges(env: Env, runs: ScheduleRun[], owner?: string): Promise<ScheduleRunView[]> {
  return mapBounded(runs, RUN_VIEWS_IN_FLIGHT, async (run) => {
    if (run.jobId === null) return { ...run, changes: null };
    const view = await env.JOB_COORDINATOR.getByName(run.jobId).view(owner);
    return { ...run, changes: view?.changes ?? null };
  });
}

function scheduler(env: Env) {
  return env.SCHEDULER.getByName('all');
}

function notFound(id: string): ApiError {
  return new ApiError('not_found', `no schedule ${id}`);
}
