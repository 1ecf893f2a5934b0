/**
 * The dashboard's stylesheet, served at /ui/app.css (the pages' CSP allows no inline style).
 * Every text colour is at least 4.5:1 against its background (WCAG AA), and every focusable
 * element shows a 3 px outline when focused from the keyboard.
 */
export const APP_CSS = `
:root {
  --fg: #1b1f24;
  --muted: #4d5661;
  --bg: #ffffff;
  --panel: #f4f6f8;
  --line: #8a949e;
  --accent: #1a4fd6;
  --accent-fg: #ffffff;
  --danger: #b3261e;
  --ok-bg: #e3f4e6;
  --ok-fg: #14532d;
  --bad-bg: #fde7e7;
  --bad-fg: #8a1c1c;
  --run-bg: #e5edff;
  --run-fg: #173a8f;
  --wait-bg: #fff4d6;
  --wait-fg: #6b4500;
  --bar: #2f6fd1;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg);
  background: var(--bg);
  line-height: 1.45;
}
body { margin: 0; }
a { color: #0b4fb3; }
a:hover { color: #083a85; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -10000px; top: 0; background: var(--bg); padding: 0.5rem; }
.skip:focus { left: 0.5rem; z-index: 10; }
.sr-only {
  position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap;
}
header.top {
  display: flex; flex-wrap: wrap; gap: 0.75rem 2rem; align-items: center;
  padding: 0.75rem 1.5rem; background: var(--panel); border-bottom: 1px solid var(--line);
}
.brand { font-weight: 700; font-size: 1.15rem; color: var(--fg); text-decoration: none; }
header nav { display: flex; gap: 1rem; }
.token { margin-left: auto; }
.token-form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.token-form .hint { flex-basis: 100%; margin: 0; }
.token-set { margin: 0; display: flex; gap: 0.5rem; align-items: center; }
main { padding: 1rem 1.5rem 3rem; max-width: 82rem; }
main:focus { outline: none; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.75rem 0 0.5rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.92em; }
.hint { color: var(--muted); font-size: 0.9rem; }
.notice { background: var(--wait-bg); color: var(--wait-fg); padding: 0.6rem 0.9rem; border-radius: 4px; }
.error { background: var(--bad-bg); color: var(--bad-fg); padding: 0.6rem 0.9rem; border-radius: 4px; }
.message { margin: 0.25rem 0; }
.back { margin: 0.25rem 0; }
#need-token { margin: 0.5rem 0; }
label { font-weight: 600; }
input, textarea, button {
  font: inherit; color: var(--fg); border: 1px solid var(--line); border-radius: 4px;
  padding: 0.4rem 0.55rem; background: var(--bg);
}
textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, Menlo, Consolas, monospace; }
button {
  cursor: pointer; background: var(--accent); color: var(--accent-fg); border-color: var(--accent);
  font-weight: 600;
}
button.secondary { background: var(--bg); color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); color: #ffffff; }
button:disabled { background: #d5dae0; border-color: #b5bcc4; color: #3d444c; cursor: not-allowed; }
.job-form { display: grid; gap: 0.9rem; max-width: 52rem; }
.field { display: grid; gap: 0.25rem; }
.field .hint { margin: 0; }
.row { display: flex; flex-wrap: wrap; gap: 1rem 1.5rem; align-items: end; }
.row .field input { width: 9rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.93rem; }
caption { text-align: left; color: var(--muted); padding-bottom: 0.3rem; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #c9cfd6; vertical-align: top; }
th { background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.url, td.title, td.msg { overflow-wrap: anywhere; max-width: 28rem; }
.status {
  display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-weight: 600;
  font-size: 0.9rem; background: var(--wait-bg); color: var(--wait-fg);
}
.status-running { background: var(--run-bg); color: var(--run-fg); }
.status-completed { background: var(--ok-bg); color: var(--ok-fg); }
.status-failed, .status-cancelled, .status-timed_out { background: var(--bad-bg); color: var(--bad-fg); }
progress { width: 100%; height: 1.1rem; accent-color: var(--bar); }
td progress { width: 8rem; }
.job-head { display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; align-items: baseline; }
.job-head h1, .job-head p { margin: 0.5rem 0; }
.progress-row { display: flex; gap: 1rem; align-items: center; margin: 0.5rem 0; }
.progress-row span { white-space: nowrap; }
.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(6.5rem, 1fr)); gap: 0.5rem; margin: 0.75rem 0; }
.counts div { background: var(--panel); border-radius: 4px; padding: 0.4rem 0.6rem; }
.counts dt { color: var(--muted); font-size: 0.85rem; }
.counts dd { margin: 0; font-size: 1.15rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.times { display: flex; flex-wrap: wrap; gap: 0.25rem 1.5rem; margin: 0.5rem 0 1rem; }
.times div { display: flex; gap: 0.4rem; }
.times dt { color: var(--muted); }
.times dd { margin: 0; font-variant-numeric: tabular-nums; }
.panels { display: grid; grid-template-columns: minmax(16rem, 1fr) 2fr; gap: 1.5rem; }
@media (max-width: 60rem) { .panels { grid-template-columns: 1fr; } }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem 2.5rem; align-items: center; }
.actions > div { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; }
.actions form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.actions form input { width: 8rem; }
.confirm { margin: 0; }
.confirm { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
figure { margin: 0; }
svg.histogram { width: 100%; max-width: 46rem; height: auto; display: block; }
svg.histogram .bar { fill: var(--bar); }
svg.histogram .axis { stroke: var(--fg); stroke-width: 1; }
svg.histogram text { fill: var(--fg); font-size: 11px; }
ul.earlier { margin: 0; padding-left: 1.1rem; }
[hidden] { display: none !important; }
`;
