/**
 * Finds the control plane binaries the way controller-runtime's envtest does, and builds
 * the missing ones into a per-version cache when nothing was given.
 *
 * Order, for each binary:
 *   1. TEST_ASSET_KUBE_APISERVER / TEST_ASSET_ETCD / TEST_ASSET_KUBECTL (a path to the binary);
 *   2. $KUBEBUILDER_ASSETS/<name>;
 *   3. /usr/local/kubebuilder/bin/<name>, envtest's default, when it exists;
 *   4. the build cache, `$BACKLOT_ENVTEST_CACHE` or `${XDG_CACHE_HOME:-~/.cache}/backlot/envtest/<version>-<os>-<arch>`,
 *      built from source with the machine's Go on first use.
 * A path named by 1 or 2 that does not hold an executable is an error, never silently replaced.
 */
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildAssets, KUBERNETES_VERSION, type BuildLogger } from './build.ts';

export interface AssetPaths {
  kubeApiserver: string;
  etcd: string;
  kubectl: string;
}

type AssetName = keyof AssetPaths;

const BINARIES: Record<AssetName, { file: string; envVar: string }> = {
  kubeApiserver: { file: 'kube-apiserver', envVar: 'TEST_ASSET_KUBE_APISERVER' },
  etcd: { file: 'etcd', envVar: 'TEST_ASSET_ETCD' },
  kubectl: { file: 'kubectl', envVar: 'TEST_ASSET_KUBECTL' },
};

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

async function isExecutable(path: string): Promise<boolean> {
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

/** Where each binary comes from, before anything is built. `undefined` means "from the cache". */
export async function locateGivenAssets(env: NodeJS.ProcessEnv): Promise<Partial<AssetPaths>> {
  const found: Partial<AssetPaths> = {};
  for (const [name, { file, envVar }] of Object.entries(BINARIES) as [AssetName, (typeof BINARIES)[AssetName]][]) {
    const explicit = env[envVar];
    const fromDir = env.KUBEBUILDER_ASSETS ? join(env.KUBEBUILDER_ASSETS, file) : undefined;
    const named = explicit ? { path: explicit, by: envVar } : fromDir ? { path: fromDir, by: 'KUBEBUILDER_ASSETS' } : undefined;
    if (named) {
      if (!(await isExecutable(named.path))) {
        throw new AssetError(`${named.by} names ${named.path} for ${file}, but there is no executable file there`);
      }
      found[name] = named.path;
      continue;
    }
    const fallback = join(ENVTEST_DEFAULT_DIR, file);
    if (await isExecutable(fallback)) found[name] = fallback;
  }
  return found;
}

/**
 * Resolves all three binaries, building whichever the environment did not provide.
 * Only the first run on a machine pays for the build.
 */
export async function resolveAssets(options: ResolveOptions = {}): Promise<AssetPaths> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const given = await locateGivenAssets(env);
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const cached = (name: AssetName) => join(cacheDir, BINARIES[name].file);

  const needKube = (!given.kubeApiserver && !(await isExecutable(cached('kubeApiserver')))) || (!given.kubectl && !(await isExecutable(cached('kubectl'))));
  const needEtcd = !given.etcd && !(await isExecutable(cached('etcd')));
  if (needKube || needEtcd) await buildAssets({ cacheDir, env, log, kube: needKube, etcd: needEtcd });

  return {
    kubeApiserver: given.kubeApiserver ?? cached('kubeApiserver'),
    etcd: given.etcd ?? cached('etcd'),
    kubectl: given.kubectl ?? cached('kubectl'),
  };
}
