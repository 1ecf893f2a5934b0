import { LIMITS } from '../jobs/schema';
import { HeadRow } from './head-row';
import { Layout } from './layout';

/** The figures of a job's summary, by the id the script writes each into. */
const FIGURES: ReadonlyArray<readonly [id: string, label: string]> = [
  ['count-total', 'Total'],
  ['count-queued', 'Queued'],
  ['count-inFlight', 'In flight'],
  ['count-retrying', 'Retrying'],
  ['count-succeeded', 'Succeeded'],
  ['count-failed', 'Failed'],
  ['count-cancelled', 'Cancelled'],
  ['count-rate', 'Rate'],
  ['stat-p50', 'p50'],
  ['stat-p95', 'p95'],
  ['stat-bytes', 'Bytes'],
];

const TIMES: ReadonlyArray<readonly [id: string, label: string]> = [
  ['job-mode', 'Mode'],
  ['job-created', 'Created'],
  ['job-started', 'Started'],
  ['job-finished', 'Finished'],
  ['job-deadline', 'Deadline'],
  ['job-changes', 'Changes'],
];

function Figures({ items, label }: { items: typeof FIGURES; label: string }) {
  return (
    <dl class="counts" aria-label={label}>
      {items.map(([id, name]) => (
        <div>
          <dt>{name}</dt>
          <dd id={id}>–</dd>
        </div>
      ))}
    </dl>
  );
}

function Times() {
  return (
    <dl class="times" aria-label="Times">
      {TIMES.map(([id, name]) => (
        <div>
          <dt>{name}</dt>
          <dd id={id}>–</dd>
        </div>
      ))}
    </dl>
  );
}

function Actions() {
  return (
    <section aria-labelledby="actions-heading">
      <h2 id="actions-heading" class="sr-only">
        Actions
      </h2>
      <div class="actions">
        <div>
          <button id="cancel-button" type="button" class="danger">
            Cancel job
          </button>
          <p id="cancel-confirm" class="confirm" hidden>
            <span>Cancel this job? Its unsettled URLs get kind cancelled.</span>
            <button id="cancel-yes" type="button" class="danger">
              Yes, cancel it
            </button>
            <button id="cancel-no" type="button" class="secondary">
              Keep it running
            </button>
          </p>
        </div>
        <form id="deadline-form" method="post" action="/">
          <label for="deadline-input">Deadline (seconds after the job was created)</label>
          <input
            id="deadline-input"
            type="number"
            inputmode="numeric"
            min={1}
            max={LIMITS.maxDeadlineMs / 1000}
            step={1}
            required
          />
          <button id="deadline-submit" type="submit">
            Move deadline
          </button>
        </form>
      </div>
    </section>
  );
}

function Latency() {
  return (
    <section aria-labelledby="latency-heading">
      <h2 id="latency-heading">Latency</h2>
      <figure>
        <div id="histogram" />
        <figcaption id="histogram-caption" class="hint">
          No Results read yet.
        </figcaption>
      </figure>
    </section>
  );
}

function Kinds() {
  return (
    <section aria-labelledby="kinds-heading">
      <h2 id="kinds-heading">Failures by kind</h2>
      <table id="kinds-table">
        <caption id="kinds-scope">No Results read yet.</caption>
        <HeadRow columns={['Kind', ['Results', 'num']]} />
        <tbody id="kinds-body" />
      </table>
      <p id="kinds-none">No failures.</p>
    </section>
  );
}

function ResultsTable() {
  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">Latest Results</h2>
      <table id="results-table">
        <caption id="results-scope">No Results yet.</caption>
        <HeadRow
          columns={[
            'URL',
            ['Status', 'num'],
            'Title',
            ['Links', 'num'],
            ['Attempts', 'num'],
            ['Duration', 'num'],
            'Outcome',
          ]}
        />
        <tbody id="results-body" />
      </table>
    </section>
  );
}

function FailuresTable() {
  return (
    <section aria-labelledby="failures-heading">
      <h2 id="failures-heading">Failures and their attempts</h2>
      <table id="failures-table">
        <caption id="failures-scope">No failures yet.</caption>
        <HeadRow columns={['URL', 'Kind', 'Message', ['Attempts', 'num'], 'Earlier attempts']} />
        <tbody id="failures-body" />
      </table>
    </section>
  );
}

/** `/jobs/:id`: one job, live. The shell names no job: the script reads the id from the URL. */
export function JobPage() {
  return (
    <Layout title="Job" page="job">
      <p class="back">
        <a href="/">← All jobs</a>
      </p>
      <div class="job-head">
        <h1>
          Job <code id="job-id" />
        </h1>
        <p>
          <span class="sr-only">Status: </span>
          <span id="job-status" class="status" aria-live="polite">
            unknown
          </span>
        </p>
        <p class="hint">
          Event stream: <span id="stream-state">not connected</span>
        </p>
      </div>
      <div class="progress-row">
        <progress id="job-progress" max={1} value={0} aria-labelledby="progress-label" />
        <span id="progress-label">Nothing read yet.</span>
      </div>
      <Figures items={FIGURES} label="Counts" />
      <Times />
      <Actions />
      <div class="panels">
        <Kinds />
        <Latency />
      </div>
      <ResultsTable />
      <FailuresTable />
    </Layout>
  );
}
