import { Hono } from 'hono';

const app = new Hono<{ Bindings: Env }>();
app.get('/', (c) => c.json({ name: 'scrape-fanout' }));

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
