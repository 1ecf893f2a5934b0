import { exports } from 'cloudflare:workers';
import { expect, inject, it } from 'vitest';

it('serves the root', async () => {
  const res = await exports.default.fetch('http://x/');
  expect(res.status).toBe(200);
  expect(inject('originPort')).toBe(0);
});
