import { componentSchemas, errorResponses } from './components';
import { errors, type Json, type Paths } from './helpers';
import { adminPaths } from './paths-admin';
import { jobPaths } from './paths-jobs';

/** Errors any /v1 route can give, whatever it does. */
const EVERY_ROUTE = errors('unauthorized', 'internal', 'unavailable');

/** Every /v1 route, each with the errors all of them share. */
function paths(): Paths {
  const all: Paths = { ...jobPaths, ...adminPaths };
  return Object.fromEntries(
    Object.entries(all).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item).map(([method, op]) => [
          method,
          { ...op, responses: { ...op.responses, ...EVERY_ROUTE } },
        ]),
      ),
    ]),
  );
}

const DESCRIPTION =
  'Fan-out web scraping: submit URLs, every one gets exactly one Result. Every /v1 route needs ' +
  '`Authorization: Bearer <token>`: the admin token (API_TOKEN) or an API key. An API key ' +
  "reaches only its own jobs and schedules (another's answer 404). Errors come in one " +
  'envelope, `{"error": {"code", "message", "details"?}}`, with the status of their code.';

/**
 * The OpenAPI 3.1 document of the API, built from the schemas that validate requests, for a
 * deployment taking at most `maxUrls` URLs per job.
 */
export function openApiDocument(maxUrls: number): Json {
  return {
    openapi: '3.1.0',
    info: { title: 'scrape-fanout', version: 'v1', description: DESCRIPTION },
    security: [{ bearer: [] }],
    tags: [
      { name: 'jobs', description: 'submit, read, move the deadline, cancel, purge' },
      { name: 'results', description: 'Results, the attempt log and progress events' },
      { name: 'schedules', description: 'jobs started on a cron expression' },
      { name: 'keys', description: 'API keys (admin token only)' },
    ],
    paths: paths(),
    components: {
      schemas: componentSchemas(maxUrls),
      responses: errorResponses(),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'the admin token (API_TOKEN) or an API key’s token (`sfk_...`)',
        },
      },
    },
  };
}
