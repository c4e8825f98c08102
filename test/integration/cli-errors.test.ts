/**
 * What the cluster-reading commands say when they cannot do their job: no API server, the
 * CRDs not installed (a control plane of this test's own, without them), no permission.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ControlPlane, freePort } from '../../src/envtest/controlplane.ts';
import { kubeconfigPath } from '../support/cluster.ts';
import { installCrds } from '../support/crds.ts';
import { backlot } from '../unit/cli/run.ts';

const COMMANDS = [['orphans'], ['owners'], ['graph'], ['export']];

describe('cluster errors', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backlot-cli-errors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function kubeconfigWith(
    change: (config: { clusters: { cluster: { server: string } }[]; users: { user: Record<string, unknown> }[] }) => void,
  ): Promise<string> {
    const config = parse(await readFile(kubeconfigPath(), 'utf8')) as Parameters<typeof change>[0];
    change(config);
    const path = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    await writeFile(path, stringify(config));
    return path;
  }

  it.each(COMMANDS)('%s names the server it cannot reach and what to try', async (command) => {
    const port = await freePort();
    const kubeconfig = await kubeconfigWith((c) => {
      c.clusters[0]!.cluster.server = `https://127.0.0.1:${port}`;
    });
    const got = await backlot([command, '-A'], { kubeconfig });
    expect(got.code).toBe(1);
    expect(got.stdout).toBe('');
    expect(got.stderr).toBe(
      `backlot ${command}: cannot reach the Kubernetes API server at https://127.0.0.1:${port} (context "envtest"): connect ECONNREFUSED 127.0.0.1:${port}. Check that the cluster is up and reachable from here, or choose another one with --context or --kubeconfig\n`,
    );
  });

  it('names the resource, the verb and the kubectl auth can-i to run when permission is lacking', async () => {
    await installCrds();
    const kubeconfig = await kubeconfigWith((c) => {
      c.users[0]!.user.as = 'backlot-cli-test-nobody';
    });
    const got = await backlot(['orphans', '-n', 'shop'], { kubeconfig });
    expect(got.code).toBe(1);
    expect(got.stderr).toContain('backlot orphans: no permission to list components.catalog.backlot.dev in namespace "shop": ');
    expect(got.stderr).toContain('User "backlot-cli-test-nobody" cannot list resource "components"');
    expect(got.stderr).toContain('Check what you may do with `kubectl auth can-i list components.catalog.backlot.dev -n shop`');
  });

  describe('on a cluster without the Backlot CRDs', () => {
    let plane: ControlPlane;

    beforeAll(async () => {
      plane = await ControlPlane.start();
    });
    afterAll(async () => {
      await plane.stop();
    });

    it.each(COMMANDS)('%s says to install them', async (command) => {
      const got = await backlot([command, '-A'], { kubeconfig: plane.kubeconfigPath });
      expect(got.code).toBe(1);
      expect(got.stdout).toBe('');
      expect(got.stderr).toBe(
        `backlot ${command}: the Backlot CRDs are not installed on the cluster at ${plane.apiServerUrl} (context "envtest"): it does not serve components.catalog.backlot.dev. Install them with \`backlot crds | kubectl apply -f -\`\n`,
      );
    });

    it('works once they are installed: no orphans in an empty cluster', async () => {
      const crds = await plane.kubectl(['apply', '-f', join(import.meta.dirname, '../../crds')]);
      expect(crds.code).toBe(0);
      const established = await plane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=backlot']);
      expect(established.code).toBe(0);
      const got = await backlot(['orphans', '-A', '-o', 'json'], { kubeconfig: plane.kubeconfigPath });
      expect(got.stderr).toBe('');
      expect(got.code).toBe(0);
      const items = (JSON.parse(got.stdout) as { items: { namespace: string; name: string }[] }).items;
      // An empty control plane has one workload: the API server's own Service, default/kubernetes.
      expect(items.filter((i) => !(i.namespace === 'default' && i.name === 'kubernetes'))).toEqual([]);
    });
  });
});
