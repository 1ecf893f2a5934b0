import { CORE_JS } from './core';
import { DASHBOARD_PAGE_JS } from './dashboard-page';
import { HISTOGRAM_JS } from './histogram';
import { JOB_PAGE_JS } from './job-page';
import { SSE_JS } from './sse';

/**
 * The dashboard's one script (/ui/app.js): every part in one strict-mode function scope, and
 * the page it runs for named by `<body data-page>`.
 */
export const APP_JS = [
  '(() => {',
  "'use strict';",
  CORE_JS,
  SSE_JS,
  HISTOGRAM_JS,
  DASHBOARD_PAGE_JS,
  JOB_PAGE_JS,
  // biome-ignore lint/complexity/noUselessStringRaw: browser code, kept raw like its parts
  String.raw`
function main() {
  initToken();
  const page = document.body.dataset.page;
  if (page === 'dashboard') dashboardPage();
  else if (page === 'job') jobPage();
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
`,
  '})();',
  '',
].join('\n');
