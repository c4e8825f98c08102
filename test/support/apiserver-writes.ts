/**
 * Counting writes from the API server's own request counters (its /metrics), so a test can
 * prove that the operator wrote nothing, without trusting the operator's own accounting.
 */
import { kubectl } from './cluster.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION', 'CREATE', 'UPDATE']);

export interface WriteCounts {
  total: number;
  /** By `verb resource[/subresource]`. */
  byResource: Record<string, number>;
}

/** Parses apiserver_request_total into mutating request counts, leases excluded (leader election renews them). */
export function mutatingRequests(metricsText: string): WriteCounts {
  const counts: WriteCounts = { total: 0, byResource: {} };
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels: Record<string, string> = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!MUTATING.has(labels.verb ?? '') || labels.resource === 'leases' || !(value > 0)) continue;
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    counts.byResource[key] = (counts.byResource[key] ?? 0) + value;
    counts.total += value;
  }
  return counts;
}

export async function apiServerWrites(): Promise<WriteCounts> {
  const res = await kubectl(['get', '--raw', '/metrics']);
  if (res.code !== 0) throw new Error(`kubectl get --raw /metrics: ${res.stderr}`);
  return mutatingRequests(res.stdout);
}

/** The writes between two counts, by resource. */
export function writesBetween(before: WriteCounts, after: WriteCounts): WriteCounts {
  const byResource: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of Object.entries(after.byResource)) {
    const d = v - (before.byResource[k] ?? 0);
    if (d > 0) {
      byResource[k] = d;
      total += d;
    }
  }
  return { total, byResource };
}
