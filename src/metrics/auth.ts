/**
 * What the secure servers' authentication and authorization cost the API server:
 * `backlot_auth_reviews_total{review,result,cached}` counts each review a request needed,
 * `review` token (TokenReview) or access (SubjectAccessReview), `result` authenticated,
 * unauthenticated, allowed, denied or error, and `cached` "false" when the API server
 * answered it, "true" when a kept answer did. The API server's share is
 * `sum(rate(backlot_auth_reviews_total{cached="false"}[5m]))`.
 */
import { Counter, type Registry } from 'prom-client';
import type { ReviewKind, ReviewMetrics, ReviewResult } from '../server/reviews.ts';

const RESULTS: Record<ReviewKind, readonly ReviewResult[]> = {
  token: ['authenticated', 'unauthenticated', 'error'],
  access: ['allowed', 'denied', 'error'],
};

export function authReviewMetrics(registry: Registry): ReviewMetrics {
  const reviews = new Counter({
    name: 'backlot_auth_reviews_total',
    help: 'Reviews the secure servers needed to answer requests: TokenReviews (review="token") and SubjectAccessReviews (review="access"), by result, sent to the API server (cached="false") or answered from the cache (cached="true").',
    labelNames: ['review', 'result', 'cached'],
    registers: [registry],
  });
  // Every series from the start (there are ten), bound once: a request costs no label look-up.
  const children = new Map<string, { inc(): void }>();
  for (const review of ['token', 'access'] as const) {
    for (const result of RESULTS[review]) {
      for (const cached of ['true', 'false']) {
        if (result === 'error' && cached === 'true') continue;
        const child = reviews.labels({ review, result, cached });
        child.inc(0);
        children.set(`${review} ${result} ${cached}`, child);
      }
    }
  }
  return {
    review: (review, result, cached) => children.get(`${review} ${result} ${String(cached)}`)?.inc(),
  };
}
