/**
 * Browser code of /jobs/:id: the job followed over its event stream, and its Results and
 * attempts read in bounded pages. Reading is bounded so that a 100,000-URL job costs the
 * browser no more than a small one: at most RESULT_PAGES pages of Results (the histogram,
 * failures by kind and tables cover those, and say so) and ATTEMPT_PAGES pages of attempts.
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw, so that escapes in the browser code reach the browser as written
export const JOB_PAGE_JS = String.raw`
const RESULT_PAGE = 200;
const RESULT_PAGES = 25;
const PAGES_PER_REFRESH = 5;
const ATTEMPT_PAGE = 500;
const ATTEMPT_PAGES = 4;
const LATEST_SHOWN = 50;
const FAILURES_SHOWN = 50;
const REFRESH_EVERY_MS = 2000;
const ATTEMPTS_EVERY_MS = 5000;

/** What the page has read of the job's Results and attempts. */
function newJobReading() {
  return {
    cursor: '',
    done: false,
    pages: 0,
    read: 0,
    durations: [],
    kinds: new Map(),
    latest: [],
    failures: [],
    attempts: new Map(),
    attemptsCapped: false,
    attemptsAt: 0,
  };
}

function addResult(reading, result) {
  reading.read++;
  if (result.attempts > 0 && typeof result.durationMs === 'number') reading.durations.push(result.durationMs);
  reading.latest.push(result);
  if (reading.latest.length > LATEST_SHOWN) reading.latest.shift();
  if (result.error) {
    const kind = String(result.error.kind);
    reading.kinds.set(kind, (reading.kinds.get(kind) || 0) + 1);
    reading.failures.push(result);
    if (reading.failures.length > FAILURES_SHOWN) reading.failures.shift();
  }
}

/** Reads the next pages of Results: all that are left (within the bound) once the job ended. */
async function readResults(base, reading, final) {
  let pages = 0;
  while (!reading.done && reading.pages < RESULT_PAGES && (final || pages < PAGES_PER_REFRESH)) {
    const query = '?limit=' + RESULT_PAGE + (reading.cursor ? '&cursor=' + encodeURIComponent(reading.cursor) : '');
    const page = await apiJson(base + '/results' + query);
    pages++;
    if (page.items.length > 0) reading.pages++;
    for (const result of page.items) addResult(reading, result);
    if (page.nextCursor === null) reading.done = true;
    else reading.cursor = page.nextCursor;
    if (page.items.length === 0 || (!final && page.items.length < RESULT_PAGE)) break;
  }
}

/** Reads the retried and lost attempts from the start (they are listed in URL order). */
async function readAttempts(base, reading) {
  const byUrl = new Map();
  let cursor = '';
  let capped = true;
  for (let i = 0; i < ATTEMPT_PAGES; i++) {
    const query = '?limit=' + ATTEMPT_PAGE + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    const page = await apiJson(base + '/attempts' + query);
    for (const a of page.items) {
      if (!byUrl.has(a.url)) byUrl.set(a.url, []);
      byUrl.get(a.url).push(a);
    }
    if (page.items.length < ATTEMPT_PAGE || page.nextCursor === null) {
      capped = false;
      break;
    }
    cursor = page.nextCursor;
  }
  reading.attempts = byUrl;
  reading.attemptsCapped = capped;
  reading.attemptsAt = Date.now();
}

function renderCounts(view) {
  const c = view.counts;
  const settled = settledOf(c);
  const progress = byId('job-progress');
  progress.max = Math.max(1, c.total);
  progress.value = settled;
  const pct = c.total > 0 ? Math.floor((settled / c.total) * 100) : 0;
  setText('progress-label', fmtInt(settled) + ' of ' + fmtInt(c.total) + ' settled (' + pct + '%)');
  for (const key of ['total', 'queued', 'inFlight', 'retrying', 'succeeded', 'failed', 'cancelled']) {
    setText('count-' + key, fmtInt(c[key]));
  }
  setText('count-rate', fmtRate(view.ratePerSec));
  setText('stat-p50', fmtMs(view.stats && view.stats.p50Ms));
  setText('stat-p95', fmtMs(view.stats && view.stats.p95Ms));
  setText('stat-bytes', fmtBytes(view.stats && view.stats.bytes));
}

/** The job's changes against the job it is compared with, in words. */
function changesText(view) {
  const c = view.changes;
  if (!c) return 'not compared';
  return fmtInt(c.changed) + ' changed, ' + fmtInt(c.unchanged) + ' unchanged, ' +
    fmtInt(c.new) + ' new, ' + fmtInt(c.gone) + ' gone (against ' + view.compareWith + ')';
}

function renderView(view) {
  const status = byId('job-status');
  if (status.textContent !== view.status) {
    status.textContent = view.status;
    status.className = 'status status-' + cssToken(view.status);
  }
  renderCounts(view);
  setText('job-mode', view.mode);
  setText('job-created', fmtTime(view.createdAt));
  setText('job-started', fmtTime(view.startedAt));
  setText('job-finished', fmtTime(view.finishedAt));
  setText('job-deadline', view.deadlineAt ? fmtTime(view.deadlineAt) : 'none');
  setText('job-changes', changesText(view));
  const ended = isTerminal(view.status);
  for (const id of ['cancel-button', 'cancel-yes', 'deadline-input', 'deadline-submit']) byId(id).disabled = ended;
  if (ended) byId('cancel-confirm').hidden = true;
}

function renderKinds(reading) {
  const body = byId('kinds-body');
  const kinds = [...reading.kinds.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  body.replaceChildren(...kinds.map(([kind, n]) => el('tr', {}, el('td', {}, el('code', {}, kind)), el('td', { class: 'num' }, fmtInt(n)))));
  byId('kinds-none').hidden = kinds.length > 0;
}

function resultRow(r) {
  return el('tr', {},
    el('td', { class: 'url' }, r.url),
    el('td', { class: 'num' }, r.status === null ? '–' : r.status),
    el('td', { class: 'title' }, r.title === null ? '' : r.title),
    el('td', { class: 'num' }, fmtInt(r.links)),
    el('td', { class: 'num' }, fmtInt(r.attempts)),
    el('td', { class: 'num' }, fmtMs(r.durationMs)),
    el('td', {}, r.error ? el('code', {}, r.error.kind) : 'ok'),
  );
}

function earlierAttempts(reading, url) {
  const list = reading.attempts.get(url) || [];
  if (list.length === 0) return reading.attemptsCapped ? 'not read (too many attempts to list)' : 'none';
  return el('ul', { class: 'earlier' }, ...list.map((a) => el('li', {},
    '#' + a.attempt + ' ', el('code', {}, a.kind), (a.status === null ? '' : ' ' + a.status) + ' ' + a.message)));
}

function failureRow(reading, r) {
  return el('tr', {},
    el('td', { class: 'url' }, r.url),
    el('td', {}, el('code', {}, r.error.kind)),
    el('td', { class: 'msg' }, r.error.message),
    el('td', { class: 'num' }, fmtInt(r.attempts)),
    el('td', {}, earlierAttempts(reading, r.url)),
  );
}

function renderReading(reading, view) {
  const total = view ? view.counts.total : reading.read;
  const scope = reading.read < total
    ? 'the first ' + fmtInt(reading.read) + ' of ' + fmtInt(total) + ' Results'
    : fmtInt(reading.read) + ' Results';
  drawHistogram(byId('histogram'), reading.durations,
    fmtInt(reading.durations.length) + ' fetched Results of ' + scope + ', by duration');
  setText('histogram-caption', 'Duration of the last attempt of each fetched URL, in ' + scope + '.');
  renderKinds(reading);
  setText('kinds-scope', 'In ' + scope + '.');
  const latest = reading.latest.slice().reverse();
  byId('results-body').replaceChildren(...latest.map(resultRow));
  setText('results-scope', latest.length === 0 ? 'No Results yet.'
    : 'The last ' + fmtInt(latest.length) + ' read, newest first, of ' + scope + ' in the order they settled.');
  const failures = reading.failures.slice().reverse();
  byId('failures-body').replaceChildren(...failures.map((r) => failureRow(reading, r)));
  setText('failures-scope', failures.length === 0 ? 'No failures in ' + scope + '.'
    : 'The last ' + fmtInt(failures.length) + ' failures, newest first, with their earlier attempts.');
}

function initCancel(base, onView) {
  const confirm = byId('cancel-confirm');
  byId('cancel-button').addEventListener('click', () => {
    confirm.hidden = false;
    byId('cancel-no').focus();
  });
  byId('cancel-no').addEventListener('click', () => {
    confirm.hidden = true;
    byId('cancel-button').focus();
  });
  byId('cancel-yes').addEventListener('click', async () => {
    byId('cancel-yes').disabled = true;
    say('Cancelling: every URL gets its Result first…', false);
    try {
      onView(await apiJson(base, { method: 'DELETE' }));
      say('Job cancelled.', false);
    } catch (err) {
      showError(err);
    } finally {
      byId('cancel-yes').disabled = false;
      confirm.hidden = true;
    }
  });
}

function initDeadline(base, onView) {
  byId('deadline-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const seconds = Number(byId('deadline-input').value);
    try {
      const view = await apiJson(base, sendJson('PATCH', { deadlineMs: Math.round(seconds * 1000) }));
      onView(view);
      say('Deadline moved to ' + fmtTime(view.deadlineAt) + '.', false);
    } catch (err) {
      showError(err);
    }
  });
}

function jobPage() {
  const id = decodeURIComponent(location.pathname.split('/')[2] || '');
  setText('job-id', id);
  document.title = 'Job ' + id + ' · scrape-fanout';
  const base = '/v1/jobs/' + encodeURIComponent(id);
  let view = null;
  let reading = newJobReading();
  let chain = Promise.resolve();
  let lastRefresh = 0;
  let controller = null;
  const onView = (v) => { view = v; renderView(v); };
  const refresh = (final) => {
    const now = Date.now();
    if (!final && now - lastRefresh < REFRESH_EVERY_MS) return;
    lastRefresh = now;
    const mine = reading;
    chain = chain.then(async () => {
      await readResults(base, mine, final);
      const due = final || Date.now() - mine.attemptsAt >= ATTEMPTS_EVERY_MS;
      if (mine.failures.some((r) => r.attempts > 1) && due) await readAttempts(base, mine);
      if (mine === reading) renderReading(mine, view);
    }).catch(showError);
  };
  initCancel(base, onView);
  initDeadline(base, onView);
  whenToken(() => {
    if (controller) controller.abort();
    controller = new AbortController();
    reading = newJobReading();
    const onEvent = (name, v) => { onView(v); refresh(name === 'end'); };
    const onState = (s) => setText('stream-state', s);
    followEvents(base + '/events', onEvent, onState, controller.signal).catch((err) => {
      setText('stream-state', 'stopped');
      showError(err.status === 404 ? new Error('No job ' + id + ' (or not yours).') : err);
    });
  });
}
`;
