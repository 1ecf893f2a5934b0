// Helpers of the API key tests: creating a key (as the admin) and calling the API with its token.
import { expect } from 'vitest';
import type { NewKey } from '../../src/keys/types';
import { api } from './api';

/** Calls the API with a key's token. */
export function as(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return api(path, { ...init, headers });
}

/** Creates a key with the admin token (asserting 201). */
export async function newKey(body: Record<string, unknown>): Promise<NewKey> {
  const res = await api('/v1/keys', { method: 'POST', body: JSON.stringify(body) });
  const json = (await res.json()) as NewKey;
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}
