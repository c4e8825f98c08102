import { afterEach, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/util/clock.ts';
import type { KeyPair, RunningServer } from '../../../src/server/http.ts';
import { Reviewer } from '../../../src/server/reviews.ts';
import { METRICS_ACCESS, startSecureServer } from '../../../src/server/secure.ts';
import { selfSignedServingCertificate } from '../../../src/server/self-signed.ts';
import { ServingCertificate } from '../../../src/server/serving-cert.ts';
import { httpsGet } from '../../../src/envtest/https-get.ts';
import { recordingLogger, waitFor } from '../../support/runtime-helpers.ts';
import { FakeClock } from '../runtime/fake-clock.ts';

const USERS: Record<string, string> = { 'token-reader': 'reader', 'token-other': 'other' };
const GRANTS: Record<string, string[]> = { reader: ['get /metrics', 'list components'], other: ['list components'] };

/** Answers TokenReviews and SubjectAccessReviews from the tables above, counting them. */
function apiServer() {
  const counts = { token: 0, access: 0 };
  const client = {
    request: <T>(req: { path: string; body?: unknown }): Promise<T> => {
      const spec = (
        req.body as {
          spec: {
            token?: string;
            user?: string;
            nonResourceAttributes?: { verb: string; path: string };
            resourceAttributes?: { verb: string; resource: string };
          };
        }
      ).spec;
      if (req.path.endsWith('/tokenreviews')) {
        counts.token++;
        const username = USERS[spec.token ?? ''];
        return Promise.resolve({ status: username ? { authenticated: true, user: { username } } : { authenticated: false } } as T);
      }
      counts.access++;
      const what = spec.nonResourceAttributes
        ? `${spec.nonResourceAttributes.verb} ${spec.nonResourceAttributes.path}`
        : `${spec.resourceAttributes?.verb} ${spec.resourceAttributes?.resource}`;
      return Promise.resolve({ status: { allowed: (GRANTS[spec.user ?? ''] ?? []).includes(what) } } as T);
    },
  };
  return { client, counts };
}

const cert = (names = ['backlot.test']) => selfSignedServingCertificate({ names, now: new Date() });

describe('the secure server', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const start = async (
    options: { certificate?: { dir: string; certFile: string; keyFile: string }; checkIntervalMs?: number; selfSigned?: () => Promise<KeyPair> } = {},
  ) => {
    const api = apiServer();
    const { logger, lines } = recordingLogger('debug');
    const server: RunningServer = await startSecureServer({
      name: 'metrics',
      bind: { host: '127.0.0.1', port: 0 },
      routes: {
        '/metrics': { handler: (_req, res) => void res.end('backlot_leader 1\n'), access: [METRICS_ACCESS] },
        '/catalog-info.yaml': {
          handler: (_req, res) => void res.end('kind: Component\n'),
          access: [{ kind: 'resource', group: 'catalog.backlot.dev', resource: 'components', verb: 'list' }],
        },
      },
      reviewer: new Reviewer({ client: api.client, clock: systemClock }),
      certificate: options.certificate,
      clock: systemClock,
      logger,
      ...(options.selfSigned ? { selfSigned: options.selfSigned } : {}),
      ...(options.checkIntervalMs ? { checkIntervalMs: options.checkIntervalMs } : {}),
    });
    cleanup.push(() => server.close());
    return { base: `https://${server.address}`, api, lines, server };
  };

  it('answers 401 without a token or with one the API server does not authenticate, 403 to an identity that may not, and the route to one that may', async () => {
    const { base, api, lines } = await start();
    const none = await httpsGet(`${base}/metrics`);
    expect([none.status, none.body, none.headers['www-authenticate']]).toEqual([
      401,
      'Unauthorized: send a bearer token, Authorization: Bearer <token>\n',
      'Bearer realm="backlot"',
    ]);
    expect((await httpsGet(`${base}/metrics`, { headers: { Authorization: 'Basic dXNlcjpwYXNz' } })).status).toBe(401);
    const bad = await httpsGet(`${base}/metrics`, { token: 'token-forged' });
    expect([bad.status, bad.body]).toEqual([401, 'Unauthorized: the Kubernetes API server does not authenticate this token\n']);
    const other = await httpsGet(`${base}/metrics`, { token: 'token-other' });
    expect([other.status, other.body]).toEqual([403, 'Forbidden: User "other" cannot get path "/metrics"\n']);
    const reader = await httpsGet(`${base}/metrics`, { token: 'token-reader' });
    expect([reader.status, reader.body]).toEqual([200, 'backlot_leader 1\n']);
    // Each route asks for its own access: other may list components, not get /metrics.
    expect((await httpsGet(`${base}/catalog-info.yaml`, { token: 'token-other' })).status).toBe(200);
    expect((await httpsGet(`${base}/nope`, { token: 'token-reader' })).status).toBe(404);
    // A second scrape costs no review.
    const before = { ...api.counts };
    expect((await httpsGet(`${base}/metrics`, { token: 'token-reader' })).status).toBe(200);
    expect(api.counts).toEqual(before);
    // The token appears in no log line.
    expect(JSON.stringify(lines)).not.toMatch(/token-(reader|other|forged)/);
  });

  it('answers 500 when the API server cannot review, and serves again once it can', async () => {
    let down = true;
    const { logger } = recordingLogger('silent');
    const server = await startSecureServer({
      name: 'metrics',
      bind: { host: '127.0.0.1', port: 0 },
      routes: { '/metrics': { handler: (_req, res) => void res.end('ok\n'), access: [METRICS_ACCESS] } },
      reviewer: new Reviewer({
        client: {
          request: <T>() =>
            down
              ? Promise.reject(new Error('connect ECONNREFUSED'))
              : Promise.resolve({ status: { authenticated: true, allowed: true, user: { username: 'u' } } } as T),
        },
        clock: systemClock,
      }),
      certificate: undefined,
      clock: systemClock,
      logger,
    });
    cleanup.push(() => server.close());
    const failed = await httpsGet(`https://${server.address}/metrics`, { token: 't' });
    expect([failed.status, failed.body]).toEqual([500, 'Internal Server Error: the token could not be reviewed by the Kubernetes API server\n']);
    down = false;
    expect((await httpsGet(`https://${server.address}/metrics`, { token: 't' })).status).toBe(200);
  });

  it('serves a self-signed ECDSA P-256 certificate when none is mounted, TLS 1.2 or later', async () => {
    const { base, lines } = await start({ certificate: { dir: '/nonexistent/backlot-certs', certFile: 'tls.crt', keyFile: 'tls.key' } });
    const answer = await httpsGet(`${base}/metrics`, { token: 'token-reader' });
    expect(answer.status).toBe(200);
    expect(lines.find((l) => l.msg === 'no metrics serving certificate in the directory yet: serving a self-signed one until it appears')).toBeDefined();
    const { selfSignedServingCertificate: make } = await import('../../../src/server/self-signed.ts');
    const made = new X509Certificate((await make({ names: ['host-a', '127.0.0.1'], now: new Date() })).cert);
    expect(made.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(made.subjectAltName).toBe('DNS:host-a, IP Address:127.0.0.1');
    expect(made.issuer).toBe(made.subject);
  });

  it('serves the mounted certificate, verifiable with its CA, and swaps in a renewed one without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backlot-certs-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    // As the kubelet lays out a Secret volume: the files are symlinks through ..data, and a
    // new version is a new directory that ..data is swapped to in one rename.
    const version = async (name: string, pair: KeyPair) => {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, 'tls.crt'), pair.cert);
      await writeFile(join(dir, name, 'tls.key'), pair.key);
      await symlink(name, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    const first = await cert(['localhost']);
    await version('..v1', first);
    await symlink('..data/tls.crt', join(dir, 'tls.crt'));
    await symlink('..data/tls.key', join(dir, 'tls.key'));
    // A long periodic check: the watch alone must see the change.
    const { base, lines } = await start({ certificate: { dir, certFile: 'tls.crt', keyFile: 'tls.key' }, checkIntervalMs: 600_000 });
    const url = `${base.replace('127.0.0.1', 'localhost')}/metrics`;
    const one = await httpsGet(url, { token: 'token-reader', ca: first.cert });
    expect([one.status, one.fingerprint256]).toEqual([200, new X509Certificate(first.cert).fingerprint256]);

    const second = await cert(['localhost']);
    await version('..v2', second);
    const two = await waitFor(
      'the renewed certificate to be served',
      async () => {
        const answer = await httpsGet(url, { token: 'token-reader', ca: second.cert });
        return answer.fingerprint256 === new X509Certificate(second.cert).fingerprint256 ? answer : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(two.status).toBe(200);
    expect(lines.filter((l) => l.msg === 'metrics serving certificate reloaded')).toHaveLength(1);
  });

  it('refuses to start with a key that does not match the certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backlot-certs-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'tls.crt'), (await cert()).cert);
    await writeFile(join(dir, 'tls.key'), (await cert()).key);
    await expect(start({ certificate: { dir, certFile: 'tls.crt', keyFile: 'tls.key' } })).rejects.toThrow(
      `the metrics serving certificate in ${dir} (tls.crt, tls.key) is not usable`,
    );
  });
});

describe('ServingCertificate', () => {
  it('checks the files on its period, takes a certificate that appears later, keeps the last good one when they turn bad or go away', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'backlot-certs-')), 'later');
    const clock = new FakeClock();
    const { logger, lines } = recordingLogger('debug');
    const selfSigned = await cert(['self']);
    const certificate = await ServingCertificate.start({
      files: { dir, certFile: 'tls.crt', keyFile: 'tls.key' },
      clock,
      logger,
      selfSigned: () => Promise.resolve(selfSigned),
    });
    const seen: string[] = [];
    certificate.onChange((pair) => seen.push(pair.cert));
    try {
      expect(certificate.current).toBe(selfSigned);
      await clock.advance(10_000);
      expect(seen).toEqual([]);

      const mounted = await cert(['mounted']);
      await mkdir(dir);
      await writeFile(join(dir, 'tls.crt'), mounted.cert);
      await writeFile(join(dir, 'tls.key'), mounted.key);
      await clock.advance(10_000);
      await certificate.reload();
      expect(seen).toEqual([mounted.cert]);
      expect(certificate.current).toEqual(mounted);

      await writeFile(join(dir, 'tls.key'), 'not a key');
      await certificate.reload();
      expect(certificate.current).toEqual(mounted);
      expect(lines.some((l) => l.msg === 'metrics serving certificate not usable: keeping the current one')).toBe(true);
      await rm(dir, { recursive: true });
      await certificate.reload();
      expect(certificate.current).toEqual(mounted);
      expect(seen).toHaveLength(1);
    } finally {
      certificate.stop();
      await rm(join(dir, '..'), { recursive: true, force: true });
    }
    expect(clock.pendingTimers).toBe(0);
  });

  it('makes a self-signed certificate anew once two thirds of its validity have passed, and stops once one is mounted', async () => {
    const hour = 60 * 60 * 1000;
    const dir = await mkdtemp(join(tmpdir(), 'backlot-certs-'));
    const clock = new FakeClock();
    const { logger, lines } = recordingLogger('debug');
    let made = 0;
    const selfSigned = () => {
      made++;
      return selfSignedServingCertificate({ names: ['self'], now: new Date(clock.now()), validityMs: 3 * hour });
    };
    const certificate = await ServingCertificate.start({
      files: { dir: join(dir, 'certs'), certFile: 'tls.crt', keyFile: 'tls.key' },
      clock,
      logger,
      selfSigned,
    });
    const seen: string[] = [];
    certificate.onChange((pair) => seen.push(pair.cert));
    try {
      const first = certificate.current;
      await clock.advance(hour);
      await certificate.reload();
      expect(made).toBe(1);
      expect(seen).toEqual([]);

      // Two hours in, two thirds of the three hours (and the minute before) have passed.
      await clock.advance(hour);
      await waitFor('the renewed certificate', () => seen.length === 1);
      expect(made).toBe(2);
      expect(certificate.current).not.toEqual(first);
      const renewed = new X509Certificate(certificate.current.cert);
      expect(Date.parse(renewed.validTo)).toBeGreaterThanOrEqual(clock.now() + 3 * hour - 1000);
      expect(lines.filter((l) => l.msg === 'self-signed metrics serving certificate renewed')).toHaveLength(1);

      // A mounted certificate takes over, and is its issuer's to renew.
      const mounted = await cert(['mounted']);
      await mkdir(join(dir, 'certs'));
      await writeFile(join(dir, 'certs', 'tls.crt'), mounted.cert);
      await writeFile(join(dir, 'certs', 'tls.key'), mounted.key);
      await certificate.reload();
      expect(certificate.current).toEqual(mounted);
      await clock.advance(10 * hour);
      await certificate.reload();
      expect(made).toBe(2);
      expect(certificate.current).toEqual(mounted);
    } finally {
      certificate.stop();
      await rm(dir, { recursive: true, force: true });
    }
    expect(clock.pendingTimers).toBe(0);
  });
});
