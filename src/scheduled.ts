/**
 * The cron trigger (every minute, wrangler.toml): asks the Scheduler to start what is due.
 * Due times are judged against the trigger's own `scheduledTime`, so a retried or doubled
 * invocation of one trigger asks about the same minute, and the Scheduler claims each
 * (schedule, due time) once.
 */
export async function scheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const report = await env.SCHEDULER.getByName('all').tick(controller.scheduledTime);
  for (const run of report.runs) {
    if (run.status !== 'started') {
      console.warn('schedule run not started', run.scheduleId, run.dueAt, run.status, run.error);
    }
  }
}
