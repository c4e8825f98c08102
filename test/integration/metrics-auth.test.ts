/**
 * The secure metrics server against the real API server: `backlot run --metrics-secure=true`,
 * called with real ServiceAccount tokens (TokenRequest API) whose identities hold the shipped
 * ClusterRoles, or nothing. No token → 401, an identity that may not get /metrics → 403, one
 * bound to backlot-metrics-reader → the metrics; the Backstage export only to an identity that
 * may list every catalog kind cluster-wide; the plain catalog port to anyone. And what it
 * costs: the reviews a scrape needs, cached and not, and the CPU the operator spends per
 * scrape with and without authentication.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/envtest/controlplane.ts';
import { httpsGet } from '../../src/envtest/https-get.ts';
import { BacklotProcess } from '../../src/envtest/operator-process.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { kubeConfig, kubeconfigPath, kubectl, testNamespace } from '../support/cluster.ts';
import { installCrds } from '../support/crds.ts';
import { eventually } from '../support/eventually.ts';
import { parseSeries } from '../support/metrics-text.ts';
import { boundServiceAccount, installUserRoles, METRICS_READER_ROLE, VIEWER_ROLE, type BoundServiceAccount } from '../support/tenant.ts';

const SCRAPES = 200;

/** backlot_auth_reviews_total by `review result cached=...`, from an exposition. */
function reviews(text: string): Record<string, number> {
  return Object.fromEntries(
    parseSeries(text)
      .filter((s) => s.name === 'backlot_auth_reviews_total')
      .map((s) => [`${s.labels.review} ${s.labels.result} cached=${s.labels.cached}`, s.value]),
  );
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .filter(([k, v]) => v !== (before[k] ?? 0))
      .map(([k, v]) => [k, v - (before[k] ?? 0)]),
  );
}

const cpuSeconds = (text: string) => parseSeries(text).find((s) => s.name === 'process_cpu_seconds_total')!.value;

describe('secure metrics, authenticated and authorized by the API server', () => {
  let ns: { name: string; remove: () => Promise<void> };
  let dir: string;
  let operator: BacklotProcess;
  let catalogPort: number;
  const accounts: Record<'prometheus' | 'nobody' | 'localViewer' | 'backstage', BoundServiceAccount> = {} as never;

  beforeAll(async () => {
    await installCrds();
    await installUserRoles();
    ns = await testNamespace('metrics-auth');
    dir = await mkdtemp(join(tmpdir(), 'backlot-metrics-auth-'));
    const admin = new RestClient(kubeConfig());
    accounts.prometheus = await boundServiceAccount(admin, { namespace: ns.name, name: 'prometheus', clusterRoles: [METRICS_READER_ROLE] });
    accounts.nobody = await boundServiceAccount(admin, { namespace: ns.name, name: 'nobody' });
    accounts.localViewer = await boundServiceAccount(admin, { namespace: ns.name, name: 'local-viewer', namespaceRoles: [VIEWER_ROLE] });
    accounts.backstage = await boundServiceAccount(admin, { namespace: ns.name, name: 'backstage', clusterRoles: [VIEWER_ROLE] });
    const applied = await kubectl(['apply', '-f', '-'], {
      input: [
        `{"apiVersion":"catalog.backlot.dev/v1alpha1","kind":"Group","metadata":{"name":"team","namespace":"${ns.name}"},"spec":{"type":"team"}}`,
        `{"apiVersion":"catalog.backlot.dev/v1alpha1","kind":"Component","metadata":{"name":"web","namespace":"${ns.name}"},"spec":{"type":"service","lifecycle":"production","owner":"team"}}`,
      ].join('\n---\n'),
    });
    expect(applied.stderr).toBe('');
    catalogPort = await freePort();
    operator = await BacklotProcess.start({
      kubeconfig: kubeconfigPath(),
      logPath: join(dir, 'backlot.log'),
      metricsToken: accounts.prometheus.token,
      extraArgs: ['--leader-elect=false', `--namespaces=${ns.name}`, `--catalog-bind-address=127.0.0.1:${catalogPort}`],
    });
    await operator.waitReady();
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    for (const account of Object.values(accounts)) await account.remove();
    await ns?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, token?: string) => httpsGet(new URL(path, operator.metricsUrl).toString(), token === undefined ? {} : { token });

  it('answers 401 without a token and with a forged one, 403 to an identity not bound to backlot-metrics-reader, the metrics to one that is', async () => {
    expect(operator.metricsUrl).toMatch(/^https:/);
    const none = await get('/metrics');
    expect([none.status, none.body]).toEqual([401, 'Unauthorized: send a bearer token, Authorization: Bearer <token>\n']);
    const forged = await get('/metrics', `${accounts.prometheus.token.slice(0, -4)}AAAA`);
    expect([forged.status, forged.body]).toEqual([401, 'Unauthorized: the Kubernetes API server does not authenticate this token\n']);
    const nobody = await get('/metrics', accounts.nobody.token);
    expect([nobody.status, nobody.body]).toEqual([403, `Forbidden: User "${accounts.nobody.user}" cannot get path "/metrics"\n`]);
    // The catalog viewer role does not grant /metrics either.
    expect((await get('/metrics', accounts.backstage.token)).status).toBe(403);
    const reader = await get('/metrics', accounts.prometheus.token);
    expect(reader.status).toBe(200);
    expect(reader.headers['content-type']).toContain('text/plain');
    expect(reader.body).toMatch(/^backlot_leader 1$/m);
    expect(reader.body).toContain(`backlot_entity_info{kind="Component",namespace="${ns.name}",name="web"`);
  });

  it('serves the Backstage export only to an identity that may list every catalog kind cluster-wide', async () => {
    const denied = await get('/catalog-info.yaml', accounts.prometheus.token);
    expect(denied.status).toBe(403);
    expect(denied.body).toBe(
      `Forbidden: User "${accounts.prometheus.user}" cannot list resource "components", "systems", "resources", "apis", "groups", "domains" in API group "catalog.backlot.dev" at the cluster scope\n`,
    );
    // Viewing the catalog in one namespace is not listing it.
    expect((await get('/catalog-info.yaml', accounts.localViewer.token)).status).toBe(403);
    expect((await get('/catalog-info/apis/x/y/definition', accounts.nobody.token)).status).toBe(403);
    const served = await eventually('the export to list the Component', async () => {
      const answer = await get('/catalog-info.yaml', accounts.backstage.token);
      return answer.status === 200 && answer.body.includes('name: web') ? answer : undefined;
    });
    expect(served.body).toContain('kind: Component');
    // Past the guard, the definitions route answers as before.
    expect((await get(`/catalog-info/apis/${ns.name}/missing/definition`, accounts.backstage.token)).status).toBe(404);
  });

  it('serves the export alone, plain HTTP to anyone, on --catalog-bind-address', async () => {
    const plain = await fetch(`http://127.0.0.1:${catalogPort}/catalog-info.yaml`);
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe((await get('/catalog-info.yaml', accounts.backstage.token)).body);
    expect((await fetch(`http://127.0.0.1:${catalogPort}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${catalogPort}/catalog-info/apis/${ns.name}/missing/definition`)).status).toBe(404);
  });

  it('costs the API server one TokenReview and one SubjectAccessReview for a token, then none until they expire; and measures the CPU a scrape costs', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // A token never seen: the reviews the first scrape costs.
      const admin = new RestClient(kubeConfig());
      const fresh = await boundServiceAccount(admin, { namespace: ns.name, name: 'prometheus-2', clusterRoles: [METRICS_READER_ROLE] });
      try {
        const before = reviews(await operator.metrics());
        expect((await httpsGet(operator.metricsUrl, { token: fresh.token, agent })).status).toBe(200);
        const first = difference(reviews(await operator.metrics()), before);
        // The reads of the counters scrape too, with the test's token: cached.
        expect(first).toEqual({
          'token authenticated cached=false': 1,
          'access allowed cached=false': 1,
          'token authenticated cached=true': 1,
          'access allowed cached=true': 1,
        });

        // SCRAPES more with the same token: answered from the cache, no review sent.
        const start = await httpsGet(operator.metricsUrl, { token: fresh.token, agent });
        const cpuBefore = cpuSeconds(start.body);
        const reviewsBefore = reviews(start.body);
        for (let i = 0; i < SCRAPES; i++) expect((await httpsGet(operator.metricsUrl, { token: fresh.token, agent })).status).toBe(200);
        const end = await httpsGet(operator.metricsUrl, { token: fresh.token, agent });
        const secureCpu = (cpuSeconds(end.body) - cpuBefore) / (SCRAPES + 1);
        const cached = difference(reviews(end.body), reviewsBefore);
        expect(cached).toEqual({ 'token authenticated cached=true': SCRAPES + 1, 'access allowed cached=true': SCRAPES + 1 });

        // The same scrapes of a replica without authentication (plain HTTP, --metrics-secure=false).
        const plain = await BacklotProcess.start({
          kubeconfig: kubeconfigPath(),
          logPath: join(dir, 'plain.log'),
          extraArgs: ['--leader-elect=false', `--namespaces=${ns.name}`],
        });
        try {
          await plain.waitReady();
          // fetch keeps the connection alive, as the HTTPS agent above does.
          const scrape = async () => (await fetch(plain.metricsUrl)).text();
          await scrape();
          const plainBefore = cpuSeconds(await scrape());
          for (let i = 0; i < SCRAPES; i++) await scrape();
          const plainCpu = (cpuSeconds(await scrape()) - plainBefore) / (SCRAPES + 1);
          process.stderr.write(
            `[metrics-auth] reviews per scrape: first with a new token ${JSON.stringify(first)}; then ${JSON.stringify(cached)} over ${SCRAPES + 1} scrapes. ` +
              `CPU per scrape: ${(secureCpu * 1000).toFixed(2)} ms with HTTPS and authentication (cached reviews, keep-alive), ${(plainCpu * 1000).toFixed(2)} ms plain HTTP, ` +
              `${((secureCpu - plainCpu) * 1000).toFixed(2)} ms extra (process_cpu_seconds_total over ${SCRAPES + 1} scrapes)\n`,
          );
          expect(secureCpu).toBeGreaterThan(0);
        } finally {
          await plain.stop();
        }
      } finally {
        await fresh.remove();
      }
    } finally {
      agent.destroy();
    }
  });
});
