import { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT } from '../routes/paging';
import {
  BODY_ERRORS,
  errors,
  idParam,
  json,
  jsonBody,
  locationHeader,
  type Paths,
  pageParams,
} from './helpers';

// Schedules and API keys.

const schedule = idParam('schedule');
const key = idParam('API key');

const schedules: Paths[string] = {
  post: {
    operationId: 'createSchedule',
    summary: 'Create a schedule',
    description:
      'A job started on a cron expression (UTC, one-minute resolution). The job is validated ' +
      'like a POST /v1/jobs body (its problems named `job.<field>`), kept as submitted and ' +
      'validated again at every start. 409 when an API key already holds MAX_SCHEDULES_PER_KEY.',
    tags: ['schedules'],
    requestBody: jsonBody('ScheduleRequest', 'the schedule'),
    responses: {
      '201': json('the schedule', 'ScheduleView', locationHeader),
      ...errors(...BODY_ERRORS, 'conflict'),
    },
  },
  get: {
    operationId: 'listSchedules',
    summary: 'List schedules',
    description: "The caller's schedules (all of them for the admin), newest first.",
    tags: ['schedules'],
    parameters: pageParams(LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT),
    responses: {
      '200': json('a page of schedules', 'SchedulesPage'),
      ...errors('invalid_request'),
    },
  },
};

const oneSchedule: Paths[string] = {
  get: {
    operationId: 'getSchedule',
    summary: 'Read a schedule',
    description:
      "The schedule with its job and its last 20 runs, newest first, each with its job's " +
      '`changes` (a schedule with `compare`).',
    tags: ['schedules'],
    parameters: [schedule],
    responses: { '200': json('the schedule', 'ScheduleDetail'), ...errors('not_found') },
  },
  delete: {
    operationId: 'deleteSchedule',
    summary: 'Delete a schedule',
    description:
      'Deletes the schedule and its run history; jobs it started run on. Final: a repeated ' +
      'DELETE answers 404.',
    tags: ['schedules'],
    parameters: [schedule],
    responses: { '200': json('deleted', 'Deleted'), ...errors('not_found') },
  },
};

const ADMIN_ONLY = ' Admin token only: an API key gets 403.';

const keys: Paths[string] = {
  post: {
    operationId: 'createKey',
    summary: 'Create an API key',
    description: `A key with its own token and limits; the token is shown only here.${ADMIN_ONLY}`,
    tags: ['keys'],
    requestBody: jsonBody('KeyRequest', 'the key'),
    responses: {
      '201': json('the key and its token', 'NewKey', locationHeader),
      ...errors(...BODY_ERRORS, 'forbidden'),
    },
  },
  get: {
    operationId: 'listKeys',
    summary: 'List API keys',
    description: `Keys, newest first, without tokens.${ADMIN_ONLY}`,
    tags: ['keys'],
    parameters: pageParams(LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT),
    responses: {
      '200': json('a page of keys', 'KeysPage'),
      ...errors('invalid_request', 'forbidden'),
    },
  },
};

const oneKey: Paths[string] = {
  delete: {
    operationId: 'deleteKey',
    summary: 'Delete an API key',
    description: `Its token is refused from now on and its schedules are deleted; the jobs it started run on.${ADMIN_ONLY}`,
    tags: ['keys'],
    parameters: [key],
    responses: { '200': json('deleted', 'Deleted'), ...errors('forbidden', 'not_found') },
  },
};

export const adminPaths: Paths = {
  '/v1/schedules': schedules,
  '/v1/schedules/{id}': oneSchedule,
  '/v1/keys': keys,
  '/v1/keys/{id}': oneKey,
};
