import { z } from 'zod';
import { type Issue, toIssues } from '../jobs/schema';

export const KEY_DEFAULTS = { maxActiveJobs: 10, maxConcurrency: 1000 } as const;

export const keySchema = z.strictObject({
  name: z.string().min(1).max(100),
  maxActiveJobs: z.int().min(1).max(1000).default(KEY_DEFAULTS.maxActiveJobs),
  maxConcurrency: z.int().min(1).max(1000).default(KEY_DEFAULTS.maxConcurrency),
});

export type KeySpec = z.infer<typeof keySchema>;

/** Validates a POST /v1/keys body. */
export function parseKey(
  body: unknown,
): { ok: true; spec: KeySpec } | { ok: false; issues: Issue[] } {
  const parsed = keySchema.safeParse(body);
  return parsed.success
    ? { ok: true, spec: parsed.data }
    : { ok: false, issues: toIssues(parsed.error.issues) };
}
