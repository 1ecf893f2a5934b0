// The help text of `scrape-fanout --help` and of each command (`scrape-fanout COMMAND --help`).
import { GLOBAL_HELP } from './command.mjs';
import { JOB_HELP } from './job-options.mjs';

export const HELP = {
  main: `Usage: scrape-fanout <command> [options]

Commands:
  submit [FILE|-]    submit a job (URLs one a line from FILE, stdin, or --url)
  run [FILE|-]       run a job without a server (an embedded runtime), writing its Results
  status ID          show a job (JSON, or one line with --short)
  results ID         stream a job's results as NDJSON
  attempts ID        the job's retried and lost attempts as NDJSON
  body ID HASH       a body the job stored (--store-bodies), to stdout or --out FILE
  watch ID           follow a running job with a progress bar
  cancel ID          cancel a job
  purge ID           cancel a job if it runs and delete all of its data now
  redrive ID         a new job of the job's failed URLs (--kind K to take only those)
  deadline ID MS     move a job's deadline to MS milliseconds after its creation
  keys create NAME   create an API key (admin token only); also: keys list, keys delete ID

Run \`scrape-fanout <command> --help\` for a command's options.

${GLOBAL_HELP}`,
  submit: `Usage: scrape-fanout submit [FILE|-] [--url URL]... [options]

Submits a job. URLs are read one a line from FILE (or stdin with -); blank lines and lines
starting with # are skipped. --url adds URLs (repeatable). Prints the job id.

${JOB_HELP}
Output:
  --wait                 follow the job with a progress bar (stderr), then print a summary;
                         exit 0 when it completed, 1 when it failed, was cancelled or timed out
  --out FILE             write all results to FILE as NDJSON (implies --wait)
  -q, --quiet            print only the job id (no progress bar, no summary)

${GLOBAL_HELP}`,
  status: `Usage: scrape-fanout status ID [--short]

Prints the job as JSON, or one human-readable line with --short.

${GLOBAL_HELP}`,
  results: `Usage: scrape-fanout results ID [--out FILE] [--follow] [--format ndjson|csv]
                                  [--ok true|false] [--kind KIND]

Streams the job's results as NDJSON (one Result a line) or CSV to stdout, or to FILE.
  --out FILE          write to FILE (via FILE.part, renamed when complete)
  --follow            keep streaming until the job ends
  --format csv        the server's RFC 4180 CSV (a header row, one row per Result)
  --ok true|false     only ok, or only failed, Results
  --kind KIND         only failed Results of this error kind (timeout, http_status, ...)

${GLOBAL_HELP}`,
  attempts: `Usage: scrape-fanout attempts ID

Prints every attempt that did not give its URL the Result (failures that were retried,
fetches lost with a crashed shard) as NDJSON, one attempt a line, in URL order. The job
must have ended for the list to be complete; on a running job it is what exists so far.

${GLOBAL_HELP}`,
  body: `Usage: scrape-fanout body ID HASH [--out FILE]

Writes a page body the job stored (submitted with --store-bodies) as it was kept: the decoded
bytes of the page. HASH is a Result's contentHash, with or without its "sha256:" prefix.
  --out FILE          write to FILE (via FILE.part, renamed when complete) instead of stdout

${GLOBAL_HELP}`,
  watch: `Usage: scrape-fanout watch ID [--quiet]

Follows a job with a progress bar on stderr until it ends, then prints a summary.
Exit 0 when it completed, 1 when it failed, was cancelled or timed out.

${GLOBAL_HELP}`,
  cancel: `Usage: scrape-fanout cancel ID [--json]

Cancels a job (idempotent; in-flight fetches are aborted). Prints one line, or the job JSON.

${GLOBAL_HELP}`,
  purge: `Usage: scrape-fanout purge ID

Cancels the job if it runs and deletes all of its data now (URLs, Results, attempts, its
place in the job list): afterwards every request for it answers 404. Prints \`purged ID\`.

${GLOBAL_HELP}`,
  redrive: `Usage: scrape-fanout redrive ID [--kind KIND]... [--json]

Submits a new job with the finished job's spec and only its URLs whose Result is not ok;
with --kind (repeatable), only those of these error kinds (timeout, network, http_status, ...).
Prints the new job's id and how many URLs it took.

${GLOBAL_HELP}`,
  deadline: `Usage: scrape-fanout deadline ID MS [--json]

Moves the job's deadline to MS milliseconds after its creation.

${GLOBAL_HELP}`,
};
