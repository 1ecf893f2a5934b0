/** The Hono environment of the worker: bindings from the generated Env. */
export type AppEnv = { Bindings: Env };
