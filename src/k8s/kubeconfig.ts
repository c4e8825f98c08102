/**
 * The one kubeconfig loader, for `backlot run` and every other command, with kubectl's rules
 * (client-go's clientcmd.ClientConfigLoadingRules):
 *
 * - `--kubeconfig PATH` is read alone, and must exist;
 * - else every file of $KUBECONFIG, split on the platform's path delimiter (`:`, `;` on
 *   Windows), empty and repeated entries dropped, files that do not exist skipped;
 * - else ~/.kube/config.
 *
 * Files are merged in order and the first one to name a cluster, user or context wins it
 * (a later entry of the same name is ignored, never an error), as does the first non-empty
 * current-context. Relative file paths in a kubeconfig are read relative to its own file.
 * Or, for `backlot run` in a pod, the service account (its token file re-read as it rotates).
 */
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';

/** Where the kubeconfig files came from, for messages. */
export type KubeconfigOrigin = '--kubeconfig' | 'KUBECONFIG' | 'the default location';

/** Where the client configuration comes from: kubeconfig files, or the pod's service account. */
export type KubeconfigSource =
  { kind: 'file'; paths: readonly string[]; from: KubeconfigOrigin } | { kind: 'in-cluster'; host: string; port: string; tokenFile: string; caFile: string };

export class KubeconfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeconfigError';
  }
}

/** The kubeconfig files kubectl would read: `--kubeconfig`, else $KUBECONFIG's, else ~/.kube/config. */
export function kubeconfigFiles(explicitPath: string | undefined, env: NodeJS.ProcessEnv): Extract<KubeconfigSource, { kind: 'file' }> {
  if (explicitPath !== undefined) return { kind: 'file', paths: [explicitPath], from: '--kubeconfig' };
  const listed = [...new Set((env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== ''))];
  if (listed.length > 0) return { kind: 'file', paths: listed, from: 'KUBECONFIG' };
  return { kind: 'file', paths: [join(homeDirectory(env), '.kube', 'config')], from: 'the default location' };
}

/**
 * $HOME, else the user's entry in the password database, else `/` (as a container runtime
 * sets HOME for a UID it has no entry for): a pod's process may have neither of the first two.
 */
function homeDirectory(env: NodeJS.ProcessEnv): string {
  if (env.HOME) return env.HOME;
  try {
    return homedir();
  } catch {
    return '/';
  }
}

function loadFile(path: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new KubeconfigError(`cannot read the kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return kc;
}

/** The files merged as kubectl merges them: the first to name a cluster, user, context or current-context wins it. */
function mergeFiles(paths: readonly string[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const path of paths) {
    const kc = loadFile(path);
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!currentContext) currentContext = kc.getCurrentContext() ?? '';
  }
  const merged = new KubeConfig();
  merged.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext });
  return merged;
}

function inClusterConfig(source: Extract<KubeconfigSource, { kind: 'in-cluster' }>): KubeConfig {
  const kc = new KubeConfig();
  const host = isIPv6(source.host) ? `[${source.host}]` : source.host;
  kc.loadFromOptions({
    clusters: [{ name: 'in-cluster', server: `https://${host}:${source.port}`, caFile: source.caFile, skipTLSVerify: false }],
    users: [{ name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: source.tokenFile } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account' }],
    currentContext: 'in-cluster',
  });
  return kc;
}

/** The client configuration of a source; throws KubeconfigError naming the file and what to do. */
export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  if (source.kind === 'in-cluster') return inClusterConfig(source);
  // An explicit file must be there; of the others, those that are not are skipped.
  const existing = source.paths.filter((p) => existsSync(p));
  if (existing.length === 0 || (source.from === '--kubeconfig' && existing.length < source.paths.length)) {
    throw new KubeconfigError(`no kubeconfig found at ${source.paths.join(', ')} (from ${source.from}): pass --kubeconfig PATH or set KUBECONFIG`);
  }
  return mergeFiles(existing);
}

/**
 * The cluster of the current context; throws KubeconfigError when there is none. For
 * `backlot run`, which has no --context flag: the commands choose their context themselves.
 */
export function currentCluster(kc: KubeConfig): Cluster {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeconfigError(`the kubeconfig has no current context with a cluster (current-context: "${kc.getCurrentContext() ?? ''}")`);
  return cluster;
}
