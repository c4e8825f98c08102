/**
 * Builds kube-apiserver, kubectl, kube-controller-manager, kube-scheduler and etcd from their
 * Go modules with the machine's own Go toolchain, for machines that have no prebuilt assets.
 *
 * k8s.io/kubernetes is not meant to be imported: its go.mod replaces every staging module
 * (k8s.io/api, k8s.io/client-go, ...) with a path inside its own tree, and those paths are
 * not in the module zip. A throwaway main module therefore requires k8s.io/kubernetes at the
 * pinned release and replaces each staging module named in that release's own go.mod with
 * the published version of the same release (v1.36.3 → v0.36.3). etcd is built in a module
 * of its own, at the go.etcd.io/etcd/server/v3 version the Kubernetes release pins, so that
 * it links exactly the dependencies etcd was released with. The Go toolchain itself (its
 * environment, version check and build steps) is go.ts's.
 */
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError, downloadModule, goBuild, goEnv, goVersion, runGo, toolsFile, type BuildLogger } from './go.ts';

/** The Kubernetes release the local control plane runs. Its go.mod needs Go ≥ 1.26.0. */
export const KUBERNETES_VERSION = 'v1.36.3';

/** The module paths in the `replace ( ... )` block of a go.mod that point into the tree. */
export function stagingModules(goMod: string): string[] {
  const block = /^replace \(\n([\s\S]*?)^\)/m.exec(goMod);
  if (!block) return [];
  return block[1]!
    .split('\n')
    .map((line) => /^\s*(\S+)\s+=>\s+\.\/staging\//.exec(line)?.[1])
    .filter((m): m is string => m !== undefined);
}

/** The version of a module that a go.mod requires. */
export function requiredVersion(goMod: string, module: string): string | undefined {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^\\s*${escaped}\\s+(v\\S+)`, 'm').exec(goMod)?.[1];
}

/** v1.36.3 → v0.36.3: the tag the staging modules are published under for a release. */
export function stagingVersion(kubernetesVersion: string): string {
  const match = /^v1\.(\d+\.\d+.*)$/.exec(kubernetesVersion);
  if (!match) throw new BuildError(`unexpected Kubernetes version ${kubernetesVersion}`);
  return `v0.${match[1]}`;
}

export function kubeGoMod(kubernetesVersion: string, staging: string[]): string {
  const replaces = staging.map((m) => `\t${m} => ${m} ${stagingVersion(kubernetesVersion)}`).join('\n');
  return `module backlot.dev/envtest/kube\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes ${kubernetesVersion}\n\nreplace (\n${replaces}\n)\n`;
}

export function versionLdflags(kubernetesVersion: string, buildDate: string): string {
  const match = /^v(\d+)\.(\d+)/.exec(kubernetesVersion);
  const vars: Record<string, string> = {
    gitVersion: kubernetesVersion,
    gitMajor: match?.[1] ?? '',
    gitMinor: match?.[2] ?? '',
    gitTreeState: 'clean',
    buildDate,
  };
  const flags = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    for (const [name, value] of Object.entries(vars)) flags.push(`-X ${pkg}.${name}=${value}`);
  }
  return flags.join(' ');
}

/** The commands of k8s.io/kubernetes the cache can hold, each a package under cmd/. */
export const KUBE_COMMANDS = ['kube-apiserver', 'kubectl', 'kube-controller-manager', 'kube-scheduler'] as const;

export interface BuildOptions {
  /** Where the binaries go: `<cacheDir>/kube-apiserver`, `etcd`, `kubectl`, ... */
  cacheDir: string;
  kubernetesVersion?: string;
  env?: NodeJS.ProcessEnv;
  log: BuildLogger;
  /**
   * Which commands of k8s.io/kubernetes to build (in one `go build`, so that the packages they
   * share compile once); every one of KUBE_COMMANDS by default, none with [].
   */
  kube?: readonly string[];
  /** Whether to build etcd; true by default. */
  etcd?: boolean;
}

/**
 * Builds into a private work directory under the cache, then renames each binary into
 * place, so an interrupted or concurrent build never leaves a half-written binary behind.
 */
export async function buildAssets(options: BuildOptions): Promise<void> {
  const version = options.kubernetesVersion ?? KUBERNETES_VERSION;
  const env = goEnv(options.env);
  const { log } = options;
  const go = await goVersion(env, `Kubernetes ${version}`);
  await mkdir(options.cacheDir, { recursive: true });
  const work = await mkdtemp(join(options.cacheDir, '.build-'));
  try {
    log(`building the control plane binaries for Kubernetes ${version} with ${go}; this runs once and is cached in ${options.cacheDir}`);
    const kubeDir = join(work, 'kube');
    await mkdir(kubeDir);
    const kube = await downloadModule('k8s.io/kubernetes', version, env, kubeDir);
    const kubeMod = await readFile(kube.goModPath, 'utf8');
    const etcdVersion = requiredVersion(kubeMod, 'go.etcd.io/etcd/server/v3');
    if (!etcdVersion) throw new BuildError(`k8s.io/kubernetes ${version} does not pin go.etcd.io/etcd/server/v3`);
    const buildDate = kube.time ?? new Date(0).toISOString();
    const binDir = join(work, 'bin');
    await mkdir(binDir);

    // Each group is moved into the cache as soon as it is built, so a later failure does not
    // throw away minutes of compilation.
    const install = async (names: string[]) => {
      for (const name of names) {
        await chmod(join(binDir, name), 0o755);
        await rename(join(binDir, name), join(options.cacheDir, name));
      }
    };
    const commands = options.kube ?? KUBE_COMMANDS;
    if (commands.length > 0) {
      await writeFile(join(kubeDir, 'go.mod'), kubeGoMod(version, stagingModules(kubeMod)));
      const packages = commands.map((command) => `k8s.io/kubernetes/cmd/${command}`);
      await writeFile(join(kubeDir, 'tools.go'), toolsFile(packages));
      log(`resolving the module graph of k8s.io/kubernetes ${version}`);
      await runGo(['mod', 'tidy'], { cwd: kubeDir, env });
      const label = commands.join(', ');
      await goBuild({ dir: kubeDir, packages, output: `${binDir}/`, ldflags: versionLdflags(version, buildDate), env, label, log });
      await install([...commands]);
    }
    if (options.etcd !== false) {
      const etcdDir = join(work, 'etcd');
      await mkdir(etcdDir);
      await writeFile(join(etcdDir, 'go.mod'), `module backlot.dev/envtest/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 ${etcdVersion}\n`);
      await writeFile(join(etcdDir, 'tools.go'), toolsFile(['go.etcd.io/etcd/server/v3']));
      log(`resolving the module graph of go.etcd.io/etcd/server/v3 ${etcdVersion}`);
      await runGo(['mod', 'tidy'], { cwd: etcdDir, env });
      await goBuild({
        dir: etcdDir,
        packages: ['go.etcd.io/etcd/server/v3'],
        output: join(binDir, 'etcd'),
        ldflags: '-s -w',
        env,
        label: `etcd ${etcdVersion}`,
        log,
      });
      await install(['etcd']);
    }
    await writeFile(join(options.cacheDir, 'VERSION'), `kubernetes ${version}\netcd ${etcdVersion}\nbuilt with ${go}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
