/**
 * One control plane for the whole integration run. Tests read its coordinates from the
 * environment (workers inherit it) and isolate themselves by namespace.
 *
 * The tests that need real controllers start their own realistic cluster (src/envtest/cluster.ts);
 * its binaries are resolved here, built if need be (with the plane's own, in one build), so that
 * no test's timeout pays for a build. Binaries that cannot be had fail only the tests that run
 * them, with the reason logged here. So are the tools the tests run beside it (helm, kwok).
 */
import { AssetError, resolveAssets, resolveClusterAssets, type AssetPaths } from '../../src/envtest/assets.ts';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { resolveTool } from '../../src/envtest/tools.ts';
import { ENV_DIR, ENV_KUBECONFIG, ENV_KUBECTL, PLANE_KEY } from './env.ts';

async function planeAssets(log: (line: string) => void): Promise<AssetPaths> {
  try {
    const { kubeApiserver, etcd, kubectl } = await resolveClusterAssets({ log });
    return { kubeApiserver, etcd, kubectl };
  } catch (err) {
    // Binaries named by the environment (envtest's set) without the controllers.
    if (!(err instanceof AssetError)) throw err;
    log(`the realistic cluster's binaries: ${err.message}`);
    return resolveAssets({ log });
  }
}

export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[envtest] ${line}\n`);
  const assets = await planeAssets(log);
  await resolveTool('kwok', { log }).catch((err: unknown) => log(`kwok: ${(err as Error).message}`));
  const started = Date.now();
  const plane = await ControlPlane.start({ assets, log });
  log(`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // A tool that cannot be had fails the tests that run it, with this reason, and no others.
  await resolveTool('helm', { log }).catch((err: unknown) => log(`helm: ${(err as Error).message}`));
  (globalThis as Record<string, unknown>)[PLANE_KEY] = plane;
  process.env[ENV_KUBECONFIG] = plane.kubeconfigPath;
  process.env[ENV_KUBECTL] = plane.assets.kubectl;
  process.env[ENV_DIR] = plane.dir;
}
