// What test/global-setup.ts provides to the tests (read with `inject`).
declare module 'vitest' {
  export interface ProvidedContext {
    originPort: number;
    /** Whether the Browser Rendering tests run (the local Chrome is set up, or CI). */
    browserTests: boolean;
  }
}

export {};
