/**
 * The API client's own families: how long requests waited for the client-side rate limit
 * (`--kube-api-qps`, `--kube-api-burst`) and how often the API server asked them to come back
 * later. Both count only what happened: a request that neither waited nor was turned away
 * costs nothing here.
 */
import { Counter, type Registry } from 'prom-client';
import type { RestClientMetrics } from '../k8s/rest.ts';

export function restClientMetrics(registry: Registry): RestClientMetrics {
  const wait = new Counter({
    name: 'backlot_client_rate_limit_wait_seconds_total',
    help: 'Seconds requests to the API server waited for the client-side rate limit (--kube-api-qps, --kube-api-burst).',
    registers: [registry],
  });
  const retries = new Counter({
    name: 'backlot_client_retry_after_total',
    help: 'Requests to the API server sent again after it answered 429 or 503 with Retry-After.',
    labelNames: ['code'],
    registers: [registry],
  });
  // Zero-valued from the start, so rate() and alerts see the series before the first 429.
  const tooMany = retries.labels({ code: '429' });
  const unavailable = retries.labels({ code: '503' });
  tooMany.inc(0);
  unavailable.inc(0);
  return {
    rateLimitWait: (seconds) => wait.inc(seconds),
    retryAfter: (status) => (status === 429 ? tooMany : unavailable).inc(),
  };
}
