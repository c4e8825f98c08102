/**
 * Finds the control plane binaries the way controller-runtime's envtest does, and builds
 * the missing ones into a per-version cache when nothing was given.
 *
 * Order, for each binary:
 *   1. TEST_ASSET_KUBE_APISERVER / TEST_ASSET_ETCD / TEST_ASSET_KUBECTL /
 *      TEST_ASSET_KUBE_CONTROLLER_MANAGER / TEST_ASSET_KUBE_SCHEDULER (a path to the binary);
 *   2. $KUBEBUILDER_ASSETS/<name>;
 *   3. /usr/local/kubebuilder/bin/<name>, envtest's default, when it exists;
 *   4. the build cache, `$BACKLOT_ENVTEST_CACHE` or `${XDG_CACHE_HOME:-~/.cache}/backlot/envtest/<version>-<os>-<arch>`,
 *      built from source with the machine's Go on first use.
 * A path named by 1 or 2 that does not hold an executable is an error, never silently replaced:
 * envtest's own asset set has no kube-controller-manager or kube-scheduler, and building ours
 * beside someone else's API server would run controllers of another release against it.
 *
 * The bare plane needs only the first three; the realistic cluster (src/envtest/cluster.ts)
 * also runs kube-controller-manager and kube-scheduler. Whatever is missing from the cache is
 * built in one `go build` of the k8s.io/kubernetes module; what the cache holds is kept.
 */
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildAssets, KUBERNETES_VERSION } from './build.ts';
import type { BuildLogger } from './go.ts';

/** What the bare control plane runs. */
export interface AssetPaths {
  kubeApiserver: string;
  etcd: string;
  kubectl: string;
}

/** What the realistic cluster runs besides: the controllers and the scheduler. */
export interface ClusterAssetPaths extends AssetPaths {
  kubeControllerManager: string;
  kubeScheduler: string;
}

type AssetName = keyof ClusterAssetPaths;

const BINARIES: Record<AssetName, { file: string; envVar: string }> = {
  kubeApiserver: { file: 'kube-apiserver', envVar: 'TEST_ASSET_KUBE_APISERVER' },
  etcd: { file: 'etcd', envVar: 'TEST_ASSET_ETCD' },
  kubectl: { file: 'kubectl', envVar: 'TEST_ASSET_KUBECTL' },
  kubeControllerManager: { file: 'kube-controller-manager', envVar: 'TEST_ASSET_KUBE_CONTROLLER_MANAGER' },
  kubeScheduler: { file: 'kube-scheduler', envVar: 'TEST_ASSET_KUBE_SCHEDULER' },
};

const BARE: readonly AssetName[] = ['kubeApiserver', 'etcd', 'kubectl'];
const CLUSTER: readonly AssetName[] = [...BARE, 'kubeControllerManager', 'kubeScheduler'];

const ENVTEST_DEFAULT_DIR = '/usr/local/kubebuilder/bin';

export class AssetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssetError';
  }
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, version: string = KUBERNETES_VERSION): string {
  if (env.BACKLOT_ENVTEST_CACHE) return env.BACKLOT_ENVTEST_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'backlot', 'envtest', `kubernetes-${version}-${process.platform}-${process.arch}`);
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  cacheDir?: string;
  log?: BuildLogger;
}

/**
 * Where each binary comes from, before anything is built. A binary left out means "from the
 * cache". `names` are the binaries wanted: the bare plane's three unless told otherwise.
 */
export async function locateGivenAssets(env: NodeJS.ProcessEnv, names: readonly AssetName[] = BARE): Promise<Partial<ClusterAssetPaths>> {
  const found: Partial<ClusterAssetPaths> = {};
  for (const name of names) {
    const { file, envVar } = BINARIES[name];
    const explicit = env[envVar];
    const fromDir = env.KUBEBUILDER_ASSETS ? join(env.KUBEBUILDER_ASSETS, file) : undefined;
    const named = explicit ? { path: explicit, by: envVar } : fromDir ? { path: fromDir, by: 'KUBEBUILDER_ASSETS' } : undefined;
    if (named) {
      if (!(await isExecutable(named.path))) {
        const hint = named.by === 'KUBEBUILDER_ASSETS' && !BARE.includes(name) ? ` (set ${envVar} to one of the same release as the API server)` : '';
        throw new AssetError(`${named.by} names ${named.path} for ${file}, but there is no executable file there${hint}`);
      }
      found[name] = named.path;
      continue;
    }
    const fallback = join(ENVTEST_DEFAULT_DIR, file);
    if (await isExecutable(fallback)) found[name] = fallback;
  }
  return found;
}

async function resolve(names: readonly AssetName[], options: ResolveOptions): Promise<Partial<ClusterAssetPaths>> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const given = await locateGivenAssets(env, names);
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const resolved: Partial<ClusterAssetPaths> = {};
  const missing: string[] = [];
  for (const name of names) {
    const cached = join(cacheDir, BINARIES[name].file);
    resolved[name] = given[name] ?? cached;
    if (!given[name] && !(await isExecutable(cached))) missing.push(BINARIES[name].file);
  }
  if (missing.length > 0) {
    const kube = missing.filter((file) => file !== 'etcd');
    await buildAssets({ cacheDir, env, log, kube, etcd: missing.includes('etcd') });
  }
  return resolved;
}

/**
 * Resolves the bare plane's three binaries, building whichever the environment did not
 * provide. Only the first run on a machine pays for the build.
 */
export async function resolveAssets(options: ResolveOptions = {}): Promise<AssetPaths> {
  return (await resolve(BARE, options)) as AssetPaths;
}

/** Resolves the realistic cluster's five binaries the same way, building only what is missing. */
export async function resolveClusterAssets(options: ResolveOptions = {}): Promise<ClusterAssetPaths> {
  return (await resolve(CLUSTER, options)) as ClusterAssetPaths;
}
