/**
 * What an integration test needs from the shared control plane: a client configuration,
 * the matching kubectl, and a namespace of its own that is deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { runKubectl, type KubectlResult } from '../../src/envtest/controlplane.ts';
import { ENV_KUBECONFIG, ENV_KUBECTL } from './env.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: integration tests run under the jest global setup (npm test)`);
  return value;
}

export function kubeconfigPath(): string {
  return required(ENV_KUBECONFIG);
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

export function kubectl(args: string[], options: { input?: string } = {}): Promise<KubectlResult> {
  return runKubectl({ binary: required(ENV_KUBECTL), kubeconfig: kubeconfigPath(), args, ...options });
}

/** Creates a uniquely named namespace; call the returned function to delete it. */
export async function testNamespace(prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'backlot.dev/test': prefix } } } });
  return {
    name,
    remove: async () => {
      await core.deleteNamespace({ name });
    },
  };
}
