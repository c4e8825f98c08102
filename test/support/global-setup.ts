/**
 * One control plane for the whole integration run. Tests read its coordinates from the
 * environment (workers inherit it) and isolate themselves by namespace. The tools the tests
 * run beside it (helm) are resolved here too, so that a first run builds each once, outside
 * any test's timeout, and the tests find it in the cache.
 */
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { resolveTool } from '../../src/envtest/tools.ts';
import { ENV_DIR, ENV_KUBECONFIG, ENV_KUBECTL, PLANE_KEY } from './env.ts';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const log = (line: string) => process.stderr.write(`[envtest] ${line}\n`);
  const plane = await ControlPlane.start({ log });
  process.stderr.write(`[envtest] control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  // A tool that cannot be had fails the tests that run it, with this reason, and no others.
  await resolveTool('helm', { log }).catch((err: unknown) => log(`helm: ${(err as Error).message}`));
  (globalThis as Record<string, unknown>)[PLANE_KEY] = plane;
  process.env[ENV_KUBECONFIG] = plane.kubeconfigPath;
  process.env[ENV_KUBECTL] = plane.assets.kubectl;
  process.env[ENV_DIR] = plane.dir;
}
