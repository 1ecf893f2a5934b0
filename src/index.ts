import { buildApp } from './app';
import { scheduled } from './scheduled';

export { FetchShard } from '../durable-objects/fetch-shard';
export { JobCoordinator } from '../durable-objects/job-coordinator';
export { JobIndex } from '../durable-objects/job-index';
export { KeyStore } from '../durable-objects/key-store';
export { Renderer } from '../durable-objects/renderer';
export { Scheduler } from '../durable-objects/scheduler';

const app = buildApp();

export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;
