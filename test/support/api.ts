import { exports } from 'cloudflare:workers';
import { expect, inject } from 'vitest';
import type { JobView, Result } from '../../src/jobs/types';

export const TOKEN = 'test-token';

/** Calls the worker's own fetch handler, authenticated unless headers say otherwise. */
export function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${TOKEN}`);
  if (init.body !== undefined && !headers.has('content-type')) {
    headers.set('content-type', 'application/json');
  }
  return exports.default.fetch(new Request(`http://api.test${path}`, { ...init, headers }));
}

/** A URL on the local origin (host 127.0.0.N when `host` is given). */
export function origin(path: string, host = '127.0.0.1'): string {
  return `http://${host}:${inject('originPort')}${path}`;
}

export interface OriginStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  aborted: number;
  byHost: Record<string, { requests: number; maxInFlight: number }>;
  paths: Record<string, number>;
  agents: Record<string, number>;
}

/** The origin's counters for one tag. */
export async function originStats(tag: string): Promise<OriginStats> {
  const res = await fetch(origin(`/__stats?tag=${encodeURIComponent(tag)}`));
  return (await res.json()) as OriginStats;
}

/** Submits a job and returns its id (asserting 202). */
export async function submit(body: Record<string, unknown>, headers?: HeadersInit) {
  const res = await api('/v1/jobs', { method: 'POST', body: JSON.stringify(body), headers });
  const json = (await res.json()) as { id: string; accepted: number; duplicates: number };
  expect(res.status, JSON.stringify(json)).toBe(202);
  return json;
}

export async function getJob(id: string): Promise<JobView> {
  const res = await api(`/v1/jobs/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as JobView;
}

const TERMINAL = ['completed', 'failed', 'cancelled', 'timed_out'];

/** Polls until the job is terminal (bounded by `ms`). */
export async function waitForJob(id: string, ms = 25_000): Promise<JobView> {
  const until = Date.now() + ms;
  for (;;) {
    const view = await getJob(id);
    if (TERMINAL.includes(view.status)) return view;
    if (Date.now() > until) throw new Error(`job ${id} still ${view.status} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every result of a job, through cursor pagination. */
export async function allResults(id: string, limit = 1000): Promise<Result[]> {
  const out: Result[] = [];
  let cursor: string | null = '';
  for (let page = 0; cursor !== null && page < 10_000; page++) {
    const res = await api(`/v1/jobs/${id}/results?limit=${limit}&cursor=${cursor}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Result[]; nextCursor: string | null };
    out.push(...body.items);
    cursor = body.items.length === 0 ? null : body.nextCursor;
  }
  return out;
}

/** A unique tag for origin counters, so tests never share them. */
export function tag(name: string): string {
  return `${name}-${crypto.randomUUID().slice(0, 8)}`;
}
