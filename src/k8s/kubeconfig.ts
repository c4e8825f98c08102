/**
 * Builds the client configuration from where cli/run-config.ts said to find it: kubeconfig files
 * (merged in order, as kubectl does with $KUBECONFIG), or the in-cluster service account
 * (its token file is re-read as it rotates).
 */
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** Where the client configuration comes from: kubeconfig files, or the pod's service account. */
export type KubeconfigSource =
  | { kind: 'file'; paths: readonly string[] }
  | { kind: 'in-cluster'; host: string; port: string; tokenFile: string; caFile: string };

export class KubeconfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeconfigError';
  }
}

export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
  if (source.kind === 'in-cluster') {
    const host = isIPv6(source.host) ? `[${source.host}]` : source.host;
    kc.loadFromOptions({
      clusters: [{ name: 'in-cluster', server: `https://${host}:${source.port}`, caFile: source.caFile, skipTLSVerify: false }],
      users: [{ name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: source.tokenFile } } }],
      contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account' }],
      currentContext: 'in-cluster',
    });
    return kc;
  }
  const [first, ...rest] = source.paths;
  if (first === undefined) throw new KubeconfigError('no kubeconfig file given');
  for (const path of source.paths) {
    if (!existsSync(path)) throw new KubeconfigError(`kubeconfig file ${path} does not exist; pass --kubeconfig=PATH or run inside a cluster`);
  }
  try {
    kc.loadFromFile(first);
    for (const path of rest) {
      const more = new KubeConfig();
      more.loadFromFile(path);
      kc.mergeConfig(more, true);
    }
  } catch (err) {
    throw new KubeconfigError(`cannot read kubeconfig ${source.paths.join(':')}: ${(err as Error).message}`, { cause: err });
  }
  if (!kc.getCurrentCluster()) {
    throw new KubeconfigError(`kubeconfig ${source.paths.join(':')} has no current context with a cluster (current-context: "${kc.getCurrentContext() ?? ''}")`);
  }
  return kc;
}
