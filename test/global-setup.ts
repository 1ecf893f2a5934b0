import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject) {
  project.provide('originPort', 0);
}

declare module 'vitest' {
  export interface ProvidedContext {
    originPort: number;
  }
}
