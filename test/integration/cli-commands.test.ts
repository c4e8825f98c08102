/**
 * orphans, owners and graph on the example catalog, run as `backlot` and as the kubectl
 * plugin `kubectl backlot` against a real API server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { ENV_KUBECTL } from '../support/env.ts';
import { kubeconfigPath } from '../support/cluster.ts';
import { applyExamples, installCrds } from '../support/crds.ts';
import { backlot, MAIN, NODE, runProcess } from '../unit/cli/run.ts';

/** The namespaces of examples/; other tests' namespaces share the control plane. */
const EXAMPLE_NAMESPACES = new Set(['shop', 'platform']);

interface OrphanItem {
  namespace: string;
  kind: string;
  name: string;
  namespaceOwner: string;
}

describe('everyday questions on the example catalog', () => {
  beforeAll(async () => {
    await installCrds();
    const applied = await applyExamples();
    if (applied.code !== 0) throw new Error(`kubectl apply -R -f examples: ${applied.stderr}`);
  });

  describe('backlot orphans', () => {
    it("finds exactly the examples' unclaimed workload with -A -o json", async () => {
      const got = await backlot(['orphans', '-A', '-o', 'json'], { kubeconfig: kubeconfigPath() });
      expect(got.stderr).toBe('');
      expect(got.code).toBe(0);
      const items = (JSON.parse(got.stdout) as { items: OrphanItem[] }).items;
      // promo-banner is claimed by nobody; debug-toolbox is ignored; every other example workload is claimed.
      expect(items.filter((i) => EXAMPLE_NAMESPACES.has(i.namespace))).toEqual([
        { namespace: 'shop', kind: 'Deployment', name: 'promo-banner', namespaceOwner: 'team-storefront', namespaceOwnerNamespace: 'shop' },
      ]);
    });

    it('prints a kubectl-style table for one namespace, and YAML on request', async () => {
      const table = await backlot(['orphans', '-n', 'shop'], { kubeconfig: kubeconfigPath() });
      expect(table.code).toBe(0);
      expect(table.stdout).toBe('KIND         NAME           NAMESPACE OWNER\nDeployment   promo-banner   shop/team-storefront\n');
      const yaml = await backlot(['orphans', '-n', 'shop', '-o', 'yaml'], { kubeconfig: kubeconfigPath() });
      expect(parse(yaml.stdout)).toEqual({
        items: [{ namespace: 'shop', kind: 'Deployment', name: 'promo-banner', namespaceOwner: 'team-storefront', namespaceOwnerNamespace: 'shop' }],
      });
    });

    it('says so when a namespace has none', async () => {
      const got = await backlot(['orphans', '-n', 'platform'], { kubeconfig: kubeconfigPath() });
      expect(got).toEqual({ code: 0, stdout: '', stderr: 'No orphaned workloads found in namespace "platform".\n' });
    });
  });

  describe('backlot owners', () => {
    it('lists what each team owns and the workloads it holds', async () => {
      const got = await backlot(['owners', '-n', 'platform'], { kubeconfig: kubeconfigPath() });
      expect(got.code).toBe(0);
      expect(got.stdout.split('\n')).toEqual([
        'OWNER                          ENTITY                           WORKLOADS',
        'group:platform/team-platform   api:platform/auth-api            <none>',
        'group:platform/team-platform   component:platform/auth          Deployment/auth, Service/auth',
        'group:platform/team-platform   component:platform/log-shipper   DaemonSet/fluent-bit',
        'group:platform/team-platform   domain:platform/platform         <none>',
        'group:platform/team-platform   resource:platform/auth-db        StatefulSet/auth-db, Service/auth-db',
        'group:platform/team-platform   system:platform/identity         <none>',
        '',
      ]);
    });

    it('answers for one team across namespaces as JSON', async () => {
      const got = await backlot(['owners', '-A', '--owner', 'shop/team-payments', '-o', 'json'], { kubeconfig: kubeconfigPath() });
      expect(got.code).toBe(0);
      const items = (JSON.parse(got.stdout) as { items: { owner: string; found: boolean; entities: { ref: string; workloads: string[] }[] }[] }).items;
      expect(items.map((i) => [i.owner, i.found])).toEqual([['group:shop/team-payments', true]]);
      expect(items[0]?.entities.find((e) => e.ref === 'component:shop/checkout')?.workloads).toEqual(['Deployment/checkout', 'Service/checkout']);
    });
  });

  describe('backlot graph', () => {
    it('draws what storefront leads to, one step deep, as Mermaid', async () => {
      const got = await backlot(['graph', '-n', 'shop', '--from', 'storefront', '--depth', '1'], { kubeconfig: kubeconfigPath() });
      expect(got.code).toBe(0);
      expect(got.stdout).toBe(
        [
          'flowchart LR',
          '  n1["component:shop/cart"]',
          '  n2["component:shop/catalog-service"]',
          '  n3["component:shop/checkout"]',
          '  n4["component:shop/search"]',
          '  n5["component:shop/storefront"]',
          '  n3 --> n1',
          '  n4 --> n2',
          '  n5 --> n1',
          '  n5 --> n2',
          '  n5 --> n3',
          '  n5 --> n4',
          '',
        ].join('\n'),
      );
    });

    it('draws the whole cluster with APIs as DOT, marking what lies outside the namespace read', async () => {
      const got = await backlot(['graph', '-n', 'shop', '--apis', '-o', 'dot'], { kubeconfig: kubeconfigPath() });
      expect(got.code).toBe(0);
      expect(got.stdout).toContain('"api:platform/auth-api" [shape=hexagon, style=dashed, label="api:platform/auth-api (not read)"];');
      expect(got.stdout).toContain('"component:shop/checkout" -> "component:shop/payments-gateway";');
      expect(got.stdout).toContain('"component:shop/checkout" -> "resource:shop/orders-db";');
      expect(got.stdout).toContain('"component:shop/cart" -> "api:shop/cart-api" [style=dashed, label="provides"];');
      const all = await backlot(['graph', '-A', '--apis', '-o', 'dot'], { kubeconfig: kubeconfigPath() });
      expect(all.stdout).toContain('"api:platform/auth-api" [shape=hexagon];');
    });
  });

  describe('as the kubectl plugin kubectl-backlot', () => {
    let bin: string;
    let env: NodeJS.ProcessEnv;
    const kubectlBinary = () => {
      const binary = process.env[ENV_KUBECTL];
      if (!binary) throw new Error(`${ENV_KUBECTL} is not set: run under the jest global setup`);
      return binary;
    };

    beforeAll(async () => {
      bin = await mkdtemp(join(tmpdir(), 'backlot-plugin-'));
      const plugin = join(bin, 'kubectl-backlot');
      await writeFile(plugin, `#!/bin/sh\nexec "${NODE}" "${MAIN}" "$@"\n`);
      await chmod(plugin, 0o755);
      env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, HOME: bin, KUBECONFIG: kubeconfigPath() };
    });
    afterAll(async () => {
      await rm(bin, { recursive: true, force: true });
    });

    it('is found by kubectl plugin list', async () => {
      const got = await runProcess(kubectlBinary(), ['plugin', 'list', '--name-only'], { env });
      expect(got.stdout.split('\n')).toContain('kubectl-backlot');
    });

    it('answers kubectl backlot orphans -A -o json like backlot does', async () => {
      const plugin = await runProcess(kubectlBinary(), ['backlot', 'orphans', '-A', '-o', 'json'], { env });
      expect(plugin.stderr).toBe('');
      expect(plugin.code).toBe(0);
      const direct = await backlot(['orphans', '-A', '-o', 'json'], { kubeconfig: kubeconfigPath() });
      expect(JSON.parse(plugin.stdout)).toEqual(JSON.parse(direct.stdout));
    });

    it.each([
      ['owners', '-n', 'shop'],
      ['graph', '-n', 'shop', '-o', 'dot'],
      ['export', '-n', 'platform'],
    ])('runs kubectl backlot %s', async (...args) => {
      const got = await runProcess(kubectlBinary(), ['backlot', ...args], { env });
      expect([args, got.code, got.stderr]).toEqual([args, 0, '']);
      expect(got.stdout.length).toBeGreaterThan(0);
    });

    it('passes --help and usage errors through with their exit codes', async () => {
      const help = await runProcess(kubectlBinary(), ['backlot', 'graph', '--help'], { env });
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Usage: backlot graph');
      const bad = await runProcess(kubectlBinary(), ['backlot', 'orphans', '-o', 'wide'], { env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('unsupported output format "wide"');
    });
  });
});
