import type { TestProject } from 'vitest/node';
import { browserSeeded } from '../scripts/setup-browser.mjs';
import { startOrigin } from './origin/server.ts';

/** Whether the local Chrome of the Browser Rendering binding is set up (setup:browser). */
function browserReady(): boolean {
  try {
    return browserSeeded();
  } catch {
    return false;
  }
}

/**
 * Starts the local test origin for the whole run and tells the tests its port, and whether the
 * browser tests run: when the local Chrome is set up, and always under CI (where .ci/run set it
 * up, so a missing one fails them instead of skipping them).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origin = await startOrigin({ port: 0 });
  project.provide('originPort', origin.port);
  project.provide('browserTests', Boolean(process.env.CI) || browserReady());
  return () => origin.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    originPort: number;
    browserTests: boolean;
  }
}
