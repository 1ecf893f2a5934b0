import { buildApp } from './app';

export { FetchShard } from '../durable-objects/fetch-shard';
export { JobCoordinator } from '../durable-objects/job-coordinator';
export { JobIndex } from '../durable-objects/job-index';

const app = buildApp();

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
