/** The API client's families, compared as whole exposition text. */
import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { restClientMetrics } from '../../../src/metrics/client.ts';

describe('restClientMetrics', () => {
  it('adds up the rate limit waits and counts the Retry-After retries by status, both zero from the start', async () => {
    const registry = new Registry();
    const metrics = restClientMetrics(registry);
    expect(await registry.metrics()).toContain('backlot_client_retry_after_total{code="429"} 0\nbacklot_client_retry_after_total{code="503"} 0');
    metrics.rateLimitWait(0.25);
    metrics.rateLimitWait(0.5);
    metrics.retryAfter(429);
    metrics.retryAfter(429);
    metrics.retryAfter(503);
    expect(await registry.metrics()).toBe(
      [
        '# HELP backlot_client_rate_limit_wait_seconds_total Seconds requests to the API server waited for the client-side rate limit (--kube-api-qps, --kube-api-burst).',
        '# TYPE backlot_client_rate_limit_wait_seconds_total counter',
        'backlot_client_rate_limit_wait_seconds_total 0.75',
        '',
        '# HELP backlot_client_retry_after_total Requests to the API server sent again after it answered 429 or 503 with Retry-After.',
        '# TYPE backlot_client_retry_after_total counter',
        'backlot_client_retry_after_total{code="429"} 2',
        'backlot_client_retry_after_total{code="503"} 1',
        '',
      ].join('\n'),
    );
  });
});
