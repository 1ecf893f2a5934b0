import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  freshStateDir,
  machineInfo,
  ROOT,
  resultsStamp,
  startOrigin,
  startServer,
} from './harness.mjs';

/**
 * The stack one benchmark script runs on: the local origin without latency and a fresh
 * server, both logging to `bench/results/<name>-<stamp>.log`. `save(data)` writes the run's
 * figures beside it (`<name>-<stamp>.json`, with the machine) and returns that path; `stop()`
 * ends both.
 * @param {string} name
 */
export async function startBenchStack(name) {
  const stamp = resultsStamp();
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, `${name}-${stamp}.log`);
  const origin = await startOrigin({ latencyMs: 0, logPath });
  const server = await startServer({
    port: await freePort(),
    persistDir: freshStateDir(),
    logPath,
  });
  const stop = async () => {
    await server.kill();
    await origin.close();
  };
  const save = (/** @type {Record<string, unknown>} */ data) => {
    const file = join(dir, `${name}-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify({ machine: machineInfo(), ...data }, null, 2)}\n`);
    return file;
  };
  return { stamp, origin, server, save, stop };
}
