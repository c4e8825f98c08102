/**
 * One control plane for the whole integration run. Tests read its coordinates from the
 * environment (workers inherit it) and isolate themselves by namespace.
 */
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { ENV_DIR, ENV_KUBECONFIG, ENV_KUBECTL, PLANE_KEY } from './env.ts';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const plane = await ControlPlane.start({ log: (line) => process.stderr.write(`[envtest] ${line}\n`) });
  process.stderr.write(`[envtest] control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  (globalThis as Record<string, unknown>)[PLANE_KEY] = plane;
  process.env[ENV_KUBECONFIG] = plane.kubeconfigPath;
  process.env[ENV_KUBECTL] = plane.assets.kubectl;
  process.env[ENV_DIR] = plane.dir;
}
