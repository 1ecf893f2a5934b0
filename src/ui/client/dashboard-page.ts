/**
 * Browser code of /: the job form, and recent jobs and schedules polled every few seconds.
 * Job rows are updated in place (not rebuilt), so a keyboard user's focus on a row's link
 * survives every refresh.
 */
export const DASHBOARD_PAGE_JS = String.raw`
const POLL_MS = 3000;
const HIDDEN_POLL_MS = 15000;
const JOBS_SHOWN = 20;
const SCHEDULES_SHOWN = 20;

/** The URLs of the form's textarea: one per line, blank lines and # comments skipped. */
function formUrls(text) {
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

function initJobForm() {
  const form = byId('job-form');
  const urls = byId('f-urls');
  const error = byId('job-form-error');
  urls.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const list = formUrls(urls.value);
    if (list.length === 0) {
      error.textContent = 'Enter at least one URL.';
      error.hidden = false;
      urls.focus();
      return;
    }
    const body = {
      urls: list,
      concurrency: Number(byId('f-concurrency').value),
      timeoutMs: Number(byId('f-timeout').value),
      retry: { maxAttempts: Number(byId('f-attempts').value) },
    };
    const button = byId('job-submit');
    button.disabled = true;
    say('Submitting ' + fmtInt(list.length) + ' URLs…', false);
    try {
      const made = await apiJson('/v1/jobs', sendJson('POST', body));
      say('Job accepted: ' + fmtInt(made.accepted) + ' URLs, ' + fmtInt(made.duplicates) + ' duplicates.', false);
      location.assign('/jobs/' + encodeURIComponent(made.id));
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err);
      error.hidden = false;
      say('', false);
    } finally {
      button.disabled = false;
    }
  });
}

/** The rate shown for a job: live (settled since the previous poll) or, once ended, its average. */
function jobRate(job, previous, now) {
  const settled = settledOf(job.counts);
  if (isTerminal(job.status)) {
    const from = Date.parse(job.startedAt || job.createdAt);
    const to = Date.parse(job.finishedAt || '');
    return to > from ? (settled * 1000) / (to - from) : null;
  }
  if (!previous || now <= previous.at) return null;
  return ((settled - previous.settled) * 1000) / (now - previous.at);
}

function newJobRow(id) {
  const progress = el('progress', { max: 1, value: 0, 'aria-label': 'Progress of job ' + id });
  const cells = {
    status: el('td', {}),
    progress: el('td', {}, progress),
    succeeded: el('td', { class: 'num' }),
    failed: el('td', { class: 'num' }),
    cancelled: el('td', { class: 'num' }),
    rate: el('td', { class: 'num' }),
    created: el('td', {}),
  };
  const link = el('a', { href: '/jobs/' + encodeURIComponent(id) }, el('code', {}, id));
  const row = el('tr', { 'data-job': id }, el('th', { scope: 'row' }, link), cells.status, cells.progress,
    cells.succeeded, cells.failed, cells.cancelled, cells.rate, cells.created);
  return { row, cells, progress, status: null };
}

function updateJobRow(entry, job, rate) {
  const c = job.counts;
  if (entry.status !== job.status) {
    entry.cells.status.replaceChildren(statusBadge(job.status));
    entry.status = job.status;
  }
  entry.progress.max = Math.max(1, c.total);
  entry.progress.value = settledOf(c);
  entry.progress.textContent = fmtInt(settledOf(c)) + ' of ' + fmtInt(c.total);
  entry.progress.title = fmtInt(settledOf(c)) + ' of ' + fmtInt(c.total) + ' settled';
  entry.cells.succeeded.textContent = fmtInt(c.succeeded);
  entry.cells.failed.textContent = fmtInt(c.failed);
  entry.cells.cancelled.textContent = fmtInt(c.cancelled);
  entry.cells.rate.textContent = fmtRate(rate);
  entry.cells.created.textContent = fmtTime(job.createdAt);
}

/** Keeps the rows of tbody in the order of ids, moving only rows that are out of place. */
function placeRows(tbody, rows) {
  rows.forEach((row, i) => {
    if (tbody.children[i] !== row) tbody.insertBefore(row, tbody.children[i] || null);
  });
  while (tbody.children.length > rows.length) tbody.lastElementChild.remove();
}

function jobsTable() {
  const entries = new Map();
  const previous = new Map();
  return async function refreshJobs() {
    const page = await apiJson('/v1/jobs?limit=' + JOBS_SHOWN);
    const now = Date.now();
    const rows = [];
    for (const job of page.items) {
      if (!entries.has(job.id)) entries.set(job.id, newJobRow(job.id));
      const entry = entries.get(job.id);
      updateJobRow(entry, job, jobRate(job, previous.get(job.id), now));
      previous.set(job.id, { at: now, settled: settledOf(job.counts) });
      rows.push(entry.row);
    }
    placeRows(byId('jobs-body'), rows);
    byId('jobs-empty').hidden = rows.length > 0;
  };
}

function scheduleRow(s) {
  return el('tr', {},
    el('th', { scope: 'row' }, s.name),
    el('td', {}, el('code', {}, s.cron)),
    el('td', {}, fmtTime(s.nextRunAt)),
    el('td', {}, fmtTime(s.createdAt)),
    el('td', {}, el('code', {}, s.id)),
  );
}

async function refreshSchedules() {
  const page = await apiJson('/v1/schedules?limit=' + SCHEDULES_SHOWN);
  byId('schedules-body').replaceChildren(...page.items.map(scheduleRow));
  byId('schedules-empty').hidden = page.items.length > 0;
}

function dashboardPage() {
  initJobForm();
  const refreshJobs = jobsTable();
  let timer = null;
  const tick = async () => {
    clearTimeout(timer);
    try {
      await Promise.all([refreshJobs(), refreshSchedules()]);
      byId('alert').hidden = true;
    } catch (err) {
      showError(err);
    }
    if (readToken()) timer = setTimeout(tick, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  };
  whenToken(tick);
}
`;
