import { ERROR_KINDS } from '../jobs/types';
import { DEFAULT_LIMIT, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, MAX_LIMIT } from '../routes/paging';
import {
  BODY_ERRORS,
  errors,
  idParam,
  type Json,
  json,
  jsonBody,
  locationHeader,
  type Paths,
  pageParams,
} from './helpers';

/** `?wait=` of POST /v1/jobs: whole seconds (src/routes/jobs.ts; a test holds them equal). */
export const MAX_WAIT_S = 30;

const job = idParam('job');
const accepted = json(
  'the job was accepted (or found again by its Idempotency-Key)',
  'JobAccepted',
  locationHeader,
);

const submit: Paths[string] = {
  post: {
    operationId: 'createJob',
    summary: 'Submit a job',
    description:
      'Validates the whole body first (a rejected request creates nothing), then stores the job ' +
      'and starts it. Bodies are limited to 16 MiB. `compareWith` must name an ended job the ' +
      'caller can read: an unknown one is a 400 naming it, a running one a 409.',
    tags: ['jobs'],
    parameters: [
      {
        name: 'wait',
        in: 'query',
        description: 'hold the answer up to this many seconds for the job to end (then 200)',
        schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_S, default: 0 },
      },
      {
        name: 'Idempotency-Key',
        in: 'header',
        description:
          'the same key and body give the same job again; the same key with another body is a ' +
          '409. Scoped to the calling token.',
        schema: { type: 'string', minLength: 1, maxLength: 256 },
      },
    ],
    requestBody: jsonBody('JobRequest', 'the job'),
    responses: {
      '200': { ...accepted, description: 'with `wait`: the job ended in time' },
      '202': accepted,
      ...errors(...BODY_ERRORS, 'conflict', 'rate_limited'),
    },
  },
  get: {
    operationId: 'listJobs',
    summary: 'List jobs',
    description:
      "Recent jobs, newest first, each with its live status: an API key's own, or all for the admin.",
    tags: ['jobs'],
    parameters: pageParams(LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT),
    responses: { '200': json('a page of jobs', 'JobsPage'), ...errors('invalid_request') },
  },
};

const one: Paths[string] = {
  get: {
    operationId: 'getJob',
    summary: 'Read a job',
    description: 'Status, counts and latency quantiles.',
    tags: ['jobs'],
    parameters: [job],
    responses: { '200': json('the job', 'JobView'), ...errors('not_found') },
  },
  patch: {
    operationId: 'moveJobDeadline',
    summary: 'Move the deadline',
    description:
      'Sets the deadline, earlier or later, counted from creation. 409 once the job is terminal ' +
      'or ending. Bodies are limited to 4 KiB.',
    tags: ['jobs'],
    parameters: [job],
    requestBody: jsonBody('DeadlineChange', 'the new deadline'),
    responses: {
      '200': json('the job with its new deadline', 'JobView'),
      ...errors(...BODY_ERRORS, 'not_found', 'conflict'),
    },
  },
  delete: {
    operationId: 'cancelJob',
    summary: 'Cancel or purge a job',
    description:
      'Cancels the job (idempotent; a finished job is left as it is) and answers once every URL ' +
      'has its Result. With `purge=true` it also deletes all of the job’s data: every route ' +
      'then answers 404 for it.',
    tags: ['jobs'],
    parameters: [
      job,
      {
        name: 'purge',
        in: 'query',
        description: '`true`: delete the job’s data too',
        schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
      },
    ],
    responses: {
      '200': json('the cancelled job, or with `purge=true` the purge', {
        oneOf: [
          { $ref: '#/components/schemas/JobView' },
          { $ref: '#/components/schemas/JobPurged' },
        ],
      }),
      ...errors('invalid_request', 'not_found'),
    },
  },
};

const ndjson: Json = {
  schema: { type: 'string', description: 'one `Result` (components.schemas.Result) per line' },
};

const results: Paths[string] = {
  get: {
    operationId: 'getResults',
    summary: 'Read Results',
    description:
      'Results in the order URLs settled: a JSON page, or with `Accept: application/x-ndjson` ' +
      '(`text/csv`) every Result streamed one per line (one CSV row). `ok` and `kind` filter; ' +
      'they combine and page the same way. On a running job `nextCursor` stays non-null, so ' +
      'polling with it misses nothing; a short page with a cursor means more follow.',
    tags: ['results'],
    parameters: [
      job,
      ...pageParams(MAX_LIMIT, DEFAULT_LIMIT),
      {
        name: 'follow',
        in: 'query',
        description: 'NDJSON only: `true` keeps streaming until the job ends (15 minutes at most)',
        schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
      },
      {
        name: 'ok',
        in: 'query',
        description: 'only ok Results (`true`) or only failed ones (`false`)',
        schema: { type: 'string', enum: ['true', 'false'] },
      },
      {
        name: 'kind',
        in: 'query',
        description: 'only failed Results of this error kind',
        schema: { type: 'string', enum: [...ERROR_KINDS] },
      },
      {
        name: 'changed',
        in: 'query',
        description:
          'only Results that changed (`true`) or did not (`false`) against `compareWith`; ' +
          'Results with `changed: null` pass neither',
        schema: { type: 'string', enum: ['true', 'false'] },
      },
      {
        name: 'format',
        in: 'query',
        description: 'overrides `Accept`: a JSON page, or every Result as NDJSON or CSV',
        schema: { type: 'string', enum: ['json', 'ndjson', 'csv'] },
      },
      {
        name: 'Accept',
        in: 'header',
        description:
          '`application/x-ndjson` or `text/csv` streams every Result instead of one page',
        schema: { type: 'string', enum: ['application/json', 'application/x-ndjson', 'text/csv'] },
      },
    ],
    responses: {
      '200': {
        description: 'a page of Results, or the NDJSON stream',
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/ResultsPage' } },
          'application/x-ndjson': ndjson,
          'text/csv': {
            schema: {
              type: 'string',
              description:
                'RFC 4180, CRLF rows: url, finalUrl, ok, status, contentType, title, links, bytes, ' +
                'attempts, durationMs, fetchedAt, errorKind, errorMessage, then data.<name> per selector',
            },
          },
        },
      },
      ...errors('invalid_request', 'not_found'),
    },
  },
};

const attempts: Paths[string] = {
  get: {
    operationId: 'getAttempts',
    summary: 'Read the attempt log',
    description:
      'Every attempt that did not give its URL the Result (retried failures, fetches lost with ' +
      'a crashed shard), in URL order, paged like Results.',
    tags: ['results'],
    parameters: [job, ...pageParams(MAX_LIMIT, DEFAULT_LIMIT)],
    responses: {
      '200': json('a page of attempts', 'AttemptsPage'),
      ...errors('invalid_request', 'not_found'),
    },
  },
};

const events: Paths[string] = {
  get: {
    operationId: 'streamEvents',
    summary: 'Follow progress',
    description:
      'Server-sent events: `progress` once a second, then `end` with the final view. Each ' +
      "event's data is a `ProgressEvent` (components.schemas.ProgressEvent). A stream ends " +
      'after 15 minutes; reconnect to go on.',
    tags: ['results'],
    parameters: [job],
    responses: {
      '200': {
        description: 'the event stream',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      ...errors('not_found'),
    },
  },
};

const redrive: Paths[string] = {
  post: {
    operationId: 'redriveJob',
    summary: 'Redrive a job',
    description:
      'A new job with the same spec and only the URLs whose Result is not ok (only those of ' +
      '`kinds`, when given; by default every kind, `cancelled` and `deadline` included). The ' +
      'body is optional. 409 while the job runs, when it has nothing to redrive, or after 100 ' +
      'redrives. The new job shows `redriveOf`; the source lists it in `redrives`.',
    tags: ['jobs'],
    parameters: [job],
    requestBody: { ...jsonBody('RedriveRequest', 'which failures to redrive'), required: false },
    responses: {
      '202': json('the new job was accepted', 'RedriveAccepted', locationHeader),
      ...errors(...BODY_ERRORS, 'not_found', 'conflict', 'rate_limited'),
    },
  },
};

const body: Paths[string] = {
  get: {
    operationId: 'getBody',
    summary: 'Read a stored body',
    description:
      'A page body the job kept (`store.bodies`), named by the hex of its Result’s ' +
      '`contentHash`: the decoded bytes, streamed with the page’s Content-Type. 404 for a hash ' +
      'the job did not store, and for a job of another API key.',
    tags: ['results'],
    parameters: [
      job,
      {
        name: 'hash',
        in: 'path',
        required: true,
        description:
          'the body’s SHA-256, 64 lowercase hex digits (`contentHash` without `sha256:`)',
        schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      },
    ],
    responses: {
      '200': {
        description: 'the body, as the page sent it once decoded',
        headers: {
          ETag: { description: 'the hash, quoted', schema: { type: 'string' } },
          'Content-Length': { description: 'the body’s bytes', schema: { type: 'integer' } },
        },
        content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
      },
      ...errors('invalid_request', 'not_found'),
    },
  },
};

export const jobPaths: Paths = {
  '/v1/jobs': submit,
  '/v1/jobs/{id}': one,
  '/v1/jobs/{id}/results': results,
  '/v1/jobs/{id}/attempts': attempts,
  '/v1/jobs/{id}/events': events,
  '/v1/jobs/{id}/redrive': redrive,
  '/v1/jobs/{id}/bodies/{hash}': body,
};
