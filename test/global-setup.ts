import type { TestProject } from 'vitest/node';
import { startOrigin } from './origin/server.ts';

/** Starts the local test origin for the whole run and tells the tests its port. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origin = await startOrigin({ port: 0 });
  project.provide('originPort', origin.port);
  return () => origin.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    originPort: number;
  }
}
