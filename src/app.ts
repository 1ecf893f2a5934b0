import { Hono } from 'hono';
import type { AppEnv } from './app-env';
import { bearerAuth } from './middleware/auth';
import { ApiError, renderError } from './middleware/errors';
import { attemptRoutes } from './routes/attempts';
import { bodyRoutes } from './routes/bodies';
import { docRoutes } from './routes/docs';
import { eventRoutes } from './routes/events';
import { jobRoutes } from './routes/jobs';
import { keyRoutes } from './routes/keys';
import { redriveRoutes } from './routes/redrive';
import { resultRoutes } from './routes/results';
import { scheduleRoutes } from './routes/schedules';
import { uiRoutes } from './ui/routes';

/** Builds the HTTP API: /v1 behind bearer auth, errors in one envelope. */
export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // The dashboard's pages are public shells; GET / falls through to the JSON below unless the
  // client prefers HTML.
  app.route('/', uiRoutes);
  app.get('/', (c) => c.json({ name: 'scrape-fanout', api: '/v1', docs: '/docs' }));
  app.route('/', docRoutes);
  app.use('/v1/*', bearerAuth());
  app.route('/v1/jobs', jobRoutes);
  app.route('/v1/jobs', resultRoutes);
  app.route('/v1/jobs', eventRoutes);
  app.route('/v1/jobs', attemptRoutes);
  app.route('/v1/jobs', redriveRoutes);
  app.route('/v1/jobs', bodyRoutes);
  app.route('/v1/schedules', scheduleRoutes);
  app.route('/v1/keys', keyRoutes);
  app.notFound(() => {
    throw new ApiError('not_found', 'no such route');
  });
  app.onError(renderError);
  return app;
}
