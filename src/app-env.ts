import type { Caller } from './keys/types';

/** The Hono environment of the worker: bindings from the generated Env, and who is calling. */
export type AppEnv = { Bindings: Env; Variables: { caller: Caller } };
