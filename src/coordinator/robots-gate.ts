import { isAllowed } from '../lib/robots';
import type { WorkItem } from '../shard/protocol';
import type { BookDeps } from './handout-book';
import type { HostState } from './hosts';
import { resultWithoutFetch } from './result-body';
import type { QueuedRow, Settled } from './url-store';
import { originOf, pathOf } from './url-text';

/**
 * robots.txt before a URL: its host's rules are fetched first (one run fetches them, the
 * others wait), and a disallowed URL is settled without a fetch (its Result goes to `denied`).
 * `paced` schedules the robots.txt request on the host's pacing, like any other request to it.
 */
export function robotsGate(
  d: Pick<BookDeps, 'spec' | 'hosts' | 'counts'>,
  shardIdx: number,
  row: QueuedRow,
  host: HostState,
  denied: Settled[],
  paced: (item: WorkItem) => WorkItem,
): 'go' | 'wait' | WorkItem {
  if (!d.spec.respectRobots) return 'go';
  const robots = host.robots;
  if (robots === null) {
    d.hosts.setRobots(host, { pending: shardIdx });
    return paced({ type: 'robots', hostId: host.id, url: `${originOf(row.norm)}/robots.txt` });
  }
  if ('pending' in robots) return 'wait';
  if (isAllowed(robots, pathOf(row.norm))) return 'go';
  d.counts.move('queued', null);
  const message = robots.unreachable
    ? `robots.txt unreachable (${robots.unreachable}): nothing on this host is fetched`
    : 'disallowed by robots.txt';
  denied.push({ idx: row.idx, result: resultWithoutFetch(row.url, 0, 'robots', message) });
  return 'wait';
}
