import { z } from 'zod';
import { type ErrorCode, STATUS } from '../middleware/errors';
import { redriveSchema } from '../routes/redrive';
import type { Json, RequestSchema, ResponseSchema } from './helpers';
import { deadlineChange, JOB_FIELDS, jobRequest, keyRequest, scheduleRequest } from './requests';
import * as s from './schemas';

const REF_BASE = '#/components/schemas/';

/** Drops what zod adds for a standalone schema: in the document each is a component. */
function embedded(schema: Json): Json {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

/** zod's JSON Schema of each entry, named by its key, its references between them resolved. */
function schemasOf(entries: Record<string, z.ZodType>, io: 'input' | 'output') {
  const reg = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(entries)) reg.add(schema, { id });
  const { schemas } = z.toJSONSchema(reg, {
    target: 'draft-2020-12',
    io,
    uri: (id) => `${REF_BASE}${id}`,
    override: (ctx) => {
      if (ctx.zodSchema === s.submittedJob) ctx.jsonSchema.$ref = `${REF_BASE}JobRequest`;
    },
  });
  return Object.fromEntries(Object.entries(schemas).map(([id, v]) => [id, embedded(v as Json)]));
}

/** components.schemas for a deployment that takes at most `maxUrls` URLs per job. */
export function componentSchemas(maxUrls: number): Record<string, Json> {
  const job = jobRequest(maxUrls);
  const requests: Record<RequestSchema, z.ZodType> = {
    JobRequest: job,
    DeadlineChange: deadlineChange,
    ScheduleRequest: scheduleRequest(job),
    KeyRequest: keyRequest,
    RedriveRequest: redriveSchema,
  };
  const responses: Record<ResponseSchema, z.ZodType> = {
    JobAccepted: s.jobAccepted,
    RedriveAccepted: s.jobAccepted.extend({ redriveOf: z.string() }),
    JobView: s.jobView,
    JobsPage: s.page(s.jobView),
    JobPurged: s.jobPurged,
    Result: s.result,
    ResultsPage: s.page(s.result),
    Attempt: s.attempt,
    AttemptsPage: s.page(s.attempt),
    ProgressEvent: s.progressEvent,
    KeyView: s.keyView,
    NewKey: s.newKey,
    KeysPage: s.page(s.keyView),
    ScheduleView: s.scheduleView,
    ScheduleRun: s.scheduleRun,
    ScheduleDetail: s.scheduleDetail,
    SchedulesPage: s.page(s.scheduleView),
    Deleted: s.deleted,
    Error: s.errorEnvelope(),
  };
  const out = { ...schemasOf(requests, 'input'), ...schemasOf(responses, 'output') };
  const jobProps = (out.JobRequest?.properties ?? {}) as Record<string, Json>;
  for (const [field, description] of Object.entries(JOB_FIELDS)) {
    const prop = jobProps[field];
    if (prop) prop.description = description;
  }
  return out;
}

const ERROR_TEXT: Record<ErrorCode, string> = {
  invalid_request: 'invalid: `message` names the first problem, `details` each one by field',
  unauthorized: 'no bearer token, or not a valid one',
  forbidden: 'an API key called a route for the admin token only',
  not_found: "no such thing for this caller (another API key's answers 404 too)",
  conflict: 'conflicts with the current state (the message says which)',
  payload_too_large: 'the body is over the limit of this route',
  unsupported_media_type: 'the body was not sent as `Content-Type: application/json`',
  rate_limited: 'the API key has maxActiveJobs jobs not yet ended; nothing was created',
  internal: 'an unexpected error (never with a stack trace)',
  unavailable: 'this deployment has no API_TOKEN configured',
};

const ERROR_HEADERS: Partial<Record<ErrorCode, Json>> = {
  unauthorized: { 'WWW-Authenticate': { schema: { type: 'string', const: 'Bearer' } } },
  rate_limited: {
    'Retry-After': { description: 'seconds to wait', schema: { type: 'integer', minimum: 1 } },
  },
};

/** components.responses: one error envelope per code, its `code` fixed. */
export function errorResponses(): Record<string, Json> {
  return Object.fromEntries(
    (Object.keys(STATUS) as ErrorCode[]).map((code) => {
      const headers = ERROR_HEADERS[code];
      const schema = embedded(z.toJSONSchema(s.errorEnvelope(code), { io: 'output' }) as Json);
      return [
        code,
        {
          description: `${STATUS[code]} \`${code}\`: ${ERROR_TEXT[code]}`,
          ...(headers ? { headers } : {}),
          content: { 'application/json': { schema } },
        },
      ];
    }),
  );
}
