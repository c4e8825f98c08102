import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { authReviewMetrics } from '../../../src/metrics/auth.ts';
import { Reviewer, type Access } from '../../../src/server/reviews.ts';
import { FakeClock } from '../runtime/fake-clock.ts';

interface Sent {
  path: string;
  body: { spec: Record<string, unknown> };
}

/** An API server stand-in: tokens it knows, and what each user may do. */
function fakeApiServer(options: { users: Record<string, string>; grants: Record<string, string[]>; fail?: () => boolean }) {
  const sent: Sent[] = [];
  const client = {
    request: <T>(req: { path: string; body?: unknown }): Promise<T> => {
      const body = req.body as Sent['body'];
      sent.push({ path: req.path, body });
      if (options.fail?.()) return Promise.reject(new Error('connect ECONNREFUSED'));
      if (req.path.endsWith('/tokenreviews')) {
        const username = options.users[body.spec.token as string];
        return Promise.resolve(
          (username
            ? { status: { authenticated: true, user: { username, uid: `uid-${username}`, groups: ['system:authenticated'] } } }
            : { status: { authenticated: false, error: 'invalid bearer token' } }) as T,
        );
      }
      const spec = body.spec as {
        user: string;
        nonResourceAttributes?: { path: string; verb: string };
        resourceAttributes?: { resource: string; verb: string };
      };
      const what = spec.nonResourceAttributes
        ? `${spec.nonResourceAttributes.verb} ${spec.nonResourceAttributes.path}`
        : `${spec.resourceAttributes!.verb} ${spec.resourceAttributes!.resource}`;
      return Promise.resolve({ status: { allowed: (options.grants[spec.user] ?? []).includes(what) } } as T);
    },
  };
  return { client, sent };
}

const METRICS: Access = { kind: 'nonResource', path: '/metrics', verb: 'get' };
const COMPONENTS: Access = { kind: 'resource', group: 'catalog.backlot.dev', resource: 'components', verb: 'list' };

async function reviewCounts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('backlot_auth_reviews_total')!.get();
  return Object.fromEntries(metric.values.filter((v) => v.value > 0).map((v) => [`${v.labels.review} ${v.labels.result} cached=${v.labels.cached}`, v.value]));
}

describe('Reviewer', () => {
  const setup = (fail?: () => boolean) => {
    const clock = new FakeClock();
    const registry = new Registry();
    const api = fakeApiServer({
      users: { 'token-prom': 'system:serviceaccount:monitoring:prometheus', 'token-eve': 'eve' },
      grants: { 'system:serviceaccount:monitoring:prometheus': ['get /metrics'] },
      ...(fail ? { fail } : {}),
    });
    const reviewer = new Reviewer({ client: api.client, clock, metrics: authReviewMetrics(registry) });
    return { clock, registry, api, reviewer };
  };

  it('authenticates with a TokenReview and authorizes with a SubjectAccessReview that carries the identity and the attributes', async () => {
    const { api, reviewer } = setup();
    const user = await reviewer.authenticate('token-prom');
    expect(user).toEqual({
      username: 'system:serviceaccount:monitoring:prometheus',
      uid: 'uid-system:serviceaccount:monitoring:prometheus',
      groups: ['system:authenticated'],
    });
    expect(await reviewer.authorize(user!, METRICS)).toBe(true);
    expect(await reviewer.authorize(user!, COMPONENTS)).toBe(false);
    expect(await reviewer.authenticate('token-unknown')).toBeUndefined();
    expect(api.sent.map((s) => [s.path, s.body.spec])).toEqual([
      ['/apis/authentication.k8s.io/v1/tokenreviews', { token: 'token-prom' }],
      [
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        { user: user!.username, uid: user!.uid, groups: ['system:authenticated'], nonResourceAttributes: { path: '/metrics', verb: 'get' } },
      ],
      [
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          user: user!.username,
          uid: user!.uid,
          groups: ['system:authenticated'],
          resourceAttributes: { group: 'catalog.backlot.dev', resource: 'components', verb: 'list' },
        },
      ],
      ['/apis/authentication.k8s.io/v1/tokenreviews', { token: 'token-unknown' }],
    ]);
  });

  it('keeps answers: a token 2 minutes, an allowed access 5 minutes, a denied one 30 seconds, and counts each review cached or not', async () => {
    const { api, reviewer, clock, registry } = setup();
    const scrape = async (token: string) => {
      const user = await reviewer.authenticate(token);
      return user ? reviewer.authorize(user, METRICS) : undefined;
    };
    // A scrape every 15 s for 10 minutes.
    for (let t = 0; t < 40; t++) {
      expect(await scrape('token-prom')).toBe(true);
      await clock.advance(15_000);
    }
    const tokenReviews = api.sent.filter((s) => s.path.endsWith('/tokenreviews')).length;
    const accessReviews = api.sent.filter((s) => s.path.endsWith('/subjectaccessreviews')).length;
    expect([tokenReviews, accessReviews]).toEqual([5, 2]);
    expect(await reviewCounts(registry)).toEqual({
      'token authenticated cached=false': 5,
      'token authenticated cached=true': 35,
      'access allowed cached=false': 2,
      'access allowed cached=true': 38,
    });

    // eve is authenticated and denied; the denial is asked again after 30 s.
    api.sent.length = 0;
    for (let t = 0; t < 8; t++) {
      expect(await scrape('token-eve')).toBe(false);
      await clock.advance(10_000);
    }
    expect(api.sent.filter((s) => s.path.endsWith('/subjectaccessreviews')).length).toBe(3);
  });

  it('shares a review in flight between requests that ask the same', async () => {
    const { api, reviewer } = setup();
    const users = await Promise.all(Array.from({ length: 10 }, () => reviewer.authenticate('token-prom')));
    expect(new Set(users.map((u) => u?.username))).toEqual(new Set(['system:serviceaccount:monitoring:prometheus']));
    expect(api.sent).toHaveLength(1);
  });

  it('keeps no failed review: the next request asks again', async () => {
    let failing = true;
    const { api, reviewer, registry } = setup(() => failing);
    await expect(reviewer.authenticate('token-prom')).rejects.toThrow('ECONNREFUSED');
    failing = false;
    expect(await reviewer.authenticate('token-prom')).toBeDefined();
    expect(api.sent).toHaveLength(2);
    expect(await reviewCounts(registry)).toEqual({ 'token error cached=false': 1, 'token authenticated cached=false': 1 });
  });

  it('keeps a bounded number of answers, keyed by a hash of the token and never the token', async () => {
    const clock = new FakeClock();
    const api = fakeApiServer({ users: {}, grants: {} });
    const reviewer = new Reviewer({ client: api.client, clock, maxEntries: 8 });
    for (let i = 0; i < 100; i++) await reviewer.authenticate(`garbage-${i}`);
    expect(reviewer.cacheSizes.tokens).toBe(8);
    // The oldest went first: the newest is still kept, the first is asked again.
    await reviewer.authenticate('garbage-99');
    expect(api.sent).toHaveLength(100);
    await reviewer.authenticate('garbage-0');
    expect(api.sent).toHaveLength(101);
    const kept = JSON.stringify([...(reviewer as unknown as { tokens: { entries: Map<string, unknown> } }).tokens.entries.keys()]);
    expect(kept).not.toContain('garbage');
  });

  it('authorizes an identity once per distinct user, groups in any order', async () => {
    const { api, reviewer } = setup();
    const user = { username: 'system:serviceaccount:monitoring:prometheus', groups: ['b', 'a'] };
    await reviewer.authorize(user, METRICS);
    await reviewer.authorize({ ...user, groups: ['a', 'b'] }, METRICS);
    await reviewer.authorize({ ...user, groups: ['a', 'b', 'system:masters'] }, METRICS);
    expect(api.sent).toHaveLength(2);
  });
});
