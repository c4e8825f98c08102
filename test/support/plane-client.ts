/** Client configurations for a test's own control plane. */
import { KubeConfig } from '@kubernetes/client-node';
import type { ControlPlane } from '../../src/envtest/controlplane.ts';

/** The plane's admin kubeconfig, optionally pointed at another address (a proxy in front of the server). */
export function planeKubeConfig(plane: ControlPlane, server?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  if (server === undefined) return kc;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the plane kubeconfig has no cluster');
  const fresh = new KubeConfig();
  fresh.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  return fresh;
}
