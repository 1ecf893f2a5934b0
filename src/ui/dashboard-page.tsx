import { LIMITS } from '../jobs/schema';
import { HeadRow } from './head-row';
import { Layout } from './layout';

/** The job form's initial values: the API's own defaults (a test holds them equal). */
export const FORM_DEFAULTS = { concurrency: 20, timeoutMs: 10_000, maxAttempts: 3 } as const;

interface NumberFieldProps {
  id: string;
  label: string;
  hint: string;
  min: number;
  max: number;
  value: number;
}

function NumberField({ id, label, hint, min, max, value }: NumberFieldProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        name={id}
        type="number"
        inputmode="numeric"
        min={min}
        max={max}
        step={1}
        value={value}
        required
        aria-describedby={`${id}-hint`}
      />
      <p id={`${id}-hint`} class="hint">
        {hint}
      </p>
    </div>
  );
}

function JobForm() {
  return (
    <section aria-labelledby="new-job-heading">
      <h2 id="new-job-heading">New job</h2>
      <form id="job-form" class="job-form" method="post" action="/">
        <div class="field">
          <label for="f-urls">URLs, one per line</label>
          <textarea
            id="f-urls"
            name="urls"
            rows={8}
            required
            spellcheck={false}
            aria-describedby="f-urls-hint"
          />
          <p id="f-urls-hint" class="hint">
            Absolute http(s) URLs; duplicates are dropped, lines starting with # skipped. Ctrl+Enter
            submits.
          </p>
        </div>
        <div class="row">
          <NumberField
            id="f-concurrency"
            label="Concurrency"
            hint={`Fetches in flight, 1 to ${LIMITS.maxConcurrency}`}
            min={1}
            max={LIMITS.maxConcurrency}
            value={FORM_DEFAULTS.concurrency}
          />
          <NumberField
            id="f-timeout"
            label="Timeout per attempt (ms)"
            hint={`100 to ${LIMITS.maxTimeoutMs}`}
            min={100}
            max={LIMITS.maxTimeoutMs}
            value={FORM_DEFAULTS.timeoutMs}
          />
          <NumberField
            id="f-attempts"
            label="Attempts per URL (retry.maxAttempts)"
            hint={`1 to ${LIMITS.maxAttempts}; 1 means no retries`}
            min={1}
            max={LIMITS.maxAttempts}
            value={FORM_DEFAULTS.maxAttempts}
          />
        </div>
        <p id="job-form-error" class="error" role="alert" hidden />
        <div>
          <button id="job-submit" type="submit">
            Submit job
          </button>
        </div>
      </form>
    </section>
  );
}

function JobsTable() {
  return (
    <section aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Recent jobs</h2>
      <table id="jobs-table">
        <caption>Newest first, refreshed every few seconds.</caption>
        <HeadRow
          columns={[
            'Job',
            'Status',
            'Settled',
            ['Succeeded', 'num'],
            ['Failed', 'num'],
            ['Cancelled', 'num'],
            ['Rate', 'num'],
            'Created',
          ]}
        />
        <tbody id="jobs-body" />
      </table>
      <p id="jobs-empty" hidden>
        No jobs yet.
      </p>
    </section>
  );
}

function SchedulesTable() {
  return (
    <section aria-labelledby="schedules-heading">
      <h2 id="schedules-heading">Schedules</h2>
      <table id="schedules-table">
        <caption>Newest first; cron expressions are in UTC.</caption>
        <HeadRow columns={['Name', 'Cron', 'Next run', 'Created', 'ID']} />
        <tbody id="schedules-body" />
      </table>
      <p id="schedules-empty" hidden>
        No schedules.
      </p>
    </section>
  );
}

/** `/` for browsers: the job form, recent jobs and schedules (filled in by the script). */
export function DashboardPage() {
  return (
    <Layout title="Jobs" page="dashboard">
      <h1>Jobs</h1>
      <JobForm />
      <JobsTable />
      <SchedulesTable />
    </Layout>
  );
}
