/**
 * One control plane for the whole integration run. Tests read its coordinates from the
 * environment (workers inherit it) and isolate themselves by namespace.
 *
 * The tests that need real controllers start their own realistic cluster (src/envtest/cluster.ts);
 * its binaries are resolved here, built if need be, so that no test's timeout pays for a build.
 */
import { resolveClusterAssets } from '../../src/envtest/assets.ts';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { resolveTool } from '../../src/envtest/tools.ts';
import { ENV_DIR, ENV_KUBECONFIG, ENV_KUBECTL, PLANE_KEY } from './env.ts';

export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[envtest] ${line}\n`);
  const started = Date.now();
  const { kubeApiserver, etcd, kubectl } = await resolveClusterAssets({ log });
  await resolveTool('kwok', { log });
  const plane = await ControlPlane.start({ assets: { kubeApiserver, etcd, kubectl }, log });
  log(`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  (globalThis as Record<string, unknown>)[PLANE_KEY] = plane;
  process.env[ENV_KUBECONFIG] = plane.kubeconfigPath;
  process.env[ENV_KUBECTL] = plane.assets.kubectl;
  process.env[ENV_DIR] = plane.dir;
}
