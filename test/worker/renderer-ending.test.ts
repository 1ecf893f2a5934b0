// A job's end reaches its Renderer (src/coordinator/job.ts `endRenders`): once a rendering job
// ends (cancelled, or completed), its renderer refuses the job's pages as `cancelled`, which it
// does only for jobs it was told have ended. The probe is a page under private targets blocked:
// a renderer not told answers `blocked_target` for it without opening a browser.

import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { rendererFor } from '../../src/render/renderer-pool';
import { api, origin, submit, tag, waitForJob } from '../support/api';
import { renderRequest } from '../support/render';

/** What the job's renderer answers now for a page of the job. */
async function probe(jobId: string) {
  const req = renderRequest(origin(`/page?tag=${tag('probe')}`), { jobId, allowPrivate: false });
  const result = await rendererFor(env, jobId).render(req);
  return result.ok ? 'ok' : result.kind;
}

describe('ending a job tells its renderer', () => {
  it('a cancelled rendering job', async () => {
    const t = tag('end-cancel');
    const { id } = await submit({ urls: [origin(`/gate?tag=${t}`)], render: true });
    expect(await probe(id)).toBe('blocked_target');
    const res = await api(`/v1/jobs/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await probe(id)).toBe('cancelled');
  });

  it('a completed rendering job', async () => {
    const t = tag('end-done');
    const { id } = await submit({ urls: [origin(`/page?tag=${t}`)], render: true });
    expect((await waitForJob(id, 60_000)).status).toBe('completed');
    expect(await probe(id)).toBe('cancelled');
  });

  it('not a job that renders nothing', async () => {
    const t = tag('end-static');
    const { id } = await submit({ urls: [origin(`/gate?tag=${t}`)] });
    const res = await api(`/v1/jobs/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await probe(id)).toBe('blocked_target');
  });
});
