// Helpers of the schedule tests (test/worker and test/durable-objects).
import { createExecutionContext, createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import worker from '../../src/index';
import type { ScheduleRunView, ScheduleView } from '../../src/schedules/types';
import { api } from './api';

export const MINUTE = 60_000;

export interface ScheduleBody extends ScheduleView {
  job: unknown;
  runs: ScheduleRunView[];
}

export interface Envelope {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

/** Schedules the test file created and has not deleted yet (see deleteCreatedSchedules). */
export const created = new Set<string>();

/** Deletes the schedules in `created`: every schedule test file runs it after each test. */
export async function deleteCreatedSchedules(): Promise<void> {
  for (const id of created) await api(`/v1/schedules/${id}`, { method: 'DELETE' });
  created.clear();
}

export async function createSchedule(body: Record<string, unknown>): Promise<ScheduleView> {
  const res = await api('/v1/schedules', { method: 'POST', body: JSON.stringify(body) });
  const json = (await res.json()) as ScheduleView;
  expect(res.status, JSON.stringify(json)).toBe(201);
  created.add(json.id);
  expect(res.headers.get('location')).toBe(`/v1/schedules/${json.id}`);
  return json;
}

export async function getSchedule(id: string): Promise<ScheduleBody> {
  const res = await api(`/v1/schedules/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as ScheduleBody;
}

export async function listIds(): Promise<string[]> {
  const res = await api('/v1/schedules?limit=100');
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: ScheduleView[] }).items.map((s) => s.id);
}

/** Fires the worker's own scheduled() handler, as the cron trigger would at `scheduledTime`. */
export async function cronTick(scheduledTime: number): Promise<void> {
  const controller = createScheduledController({ scheduledTime, cron: '* * * * *' });
  await worker.scheduled(controller, env, createExecutionContext());
}

export async function expectInvalid(body: unknown, path: string): Promise<Envelope> {
  const res = await api('/v1/schedules', { method: 'POST', body: JSON.stringify(body) });
  const json = (await res.json()) as Envelope;
  expect(res.status, JSON.stringify(json)).toBe(400);
  expect(json.error.code).toBe('invalid_request');
  expect(json.error.details?.map((d) => d.path)).toContain(path);
  return json;
}
