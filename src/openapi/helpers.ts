import { type ErrorCode, STATUS } from '../middleware/errors';

/** A JSON object of the document. */
export type Json = { [key: string]: unknown };

export interface Operation {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Json>;
  security?: Json[];
}

export type Method = 'get' | 'post' | 'patch' | 'delete';
export type Paths = Record<string, Partial<Record<Method, Operation>>>;

/** Request bodies in components.schemas (document.ts registers each one). */
export type RequestSchema =
  | 'JobRequest'
  | 'DeadlineChange'
  | 'ScheduleRequest'
  | 'KeyRequest'
  | 'RedriveRequest';

/** Response bodies in components.schemas (document.ts registers each one). */
export type ResponseSchema =
  | 'JobAccepted'
  | 'RedriveAccepted'
  | 'JobView'
  | 'JobsPage'
  | 'JobPurged'
  | 'Result'
  | 'ResultsPage'
  | 'Attempt'
  | 'AttemptsPage'
  | 'ProgressEvent'
  | 'KeyView'
  | 'NewKey'
  | 'KeysPage'
  | 'ScheduleView'
  | 'ScheduleRun'
  | 'ScheduleDetail'
  | 'SchedulesPage'
  | 'Deleted'
  | 'Error';

export type SchemaName = RequestSchema | ResponseSchema;

export const schemaRef = (name: SchemaName): Json => ({ $ref: `#/components/schemas/${name}` });

/** A response with a JSON body of one component schema (and the headers it sets). */
export function json(description: string, schema: SchemaName | Json, headers?: Json): Json {
  const body = typeof schema === 'string' ? schemaRef(schema) : schema;
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: body } },
  };
}

/** The JSON body of a request, by its component schema. */
export function jsonBody(name: SchemaName, description: string): Json {
  return {
    required: true,
    description,
    content: { 'application/json': { schema: schemaRef(name) } },
  };
}

/** The error responses of `codes`, keyed by status: each is the envelope with that code. */
export function errors(...codes: ErrorCode[]): Record<string, Json> {
  return Object.fromEntries(
    codes.map((code) => [String(STATUS[code]), { $ref: `#/components/responses/${code}` }]),
  );
}

/** The errors a JSON body can give: invalid, too large, not JSON. */
export const BODY_ERRORS = [
  'invalid_request',
  'payload_too_large',
  'unsupported_media_type',
] as const;

export const locationHeader: Json = {
  Location: { description: 'the path of what was created', schema: { type: 'string' } },
};

/** The path parameter `id`. */
export function idParam(what: string): Json {
  return {
    name: 'id',
    in: 'path',
    required: true,
    description: `the ${what}'s id`,
    schema: { type: 'string' },
  };
}

/** `limit` and `cursor` of a paginated list. */
export function pageParams(max: number, fallback: number): Json[] {
  return [
    {
      name: 'limit',
      in: 'query',
      description: `items per page (a 400 outside 1..${max})`,
      schema: { type: 'integer', minimum: 1, maximum: max, default: fallback },
    },
    {
      name: 'cursor',
      in: 'query',
      description: 'the `nextCursor` of the previous page; absent for the first one',
      schema: { type: 'string' },
    },
  ];
}
