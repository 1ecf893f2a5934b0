// What test/global-setup.ts provides to the tests (read with `inject`).
declare module 'vitest' {
  export interface ProvidedContext {
    originPort: number;
  }
}

export {};
