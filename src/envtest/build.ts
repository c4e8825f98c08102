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
 * it links exactly the dependencies etcd was released with.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';

/** The Kubernetes release the local control plane runs. Its go.mod needs Go ≥ 1.26.0. */
export const KUBERNETES_VERSION = 'v1.36.3';

export interface BuildLogger {
  (line: string): void;
}

export interface GoModuleInfo {
  goModPath: string;
  time: string | undefined;
}

export class BuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuildError';
  }
}

interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Called with every line the command writes to stderr. */
  onStderrLine?: (line: string) => void;
}

interface RunResult {
  stdout: string;
  stderrTail: string[];
}

function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const tail: string[] = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        options.onStderrLine?.(line);
      }
    });
    child.on('error', (err) => reject(new BuildError(`could not run ${command}: ${err.message}`, { cause: err })));
    child.on('close', (code) => {
      if (partial) tail.push(partial);
      if (code === 0) resolve({ stdout, stderrTail: tail });
      else
        reject(
          new BuildError(`${command} ${args.join(' ')} exited with code ${code ?? 'null'} in ${options.cwd}:\n${tail.join('\n')}`),
        );
    });
  });
}

export function goEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', CGO_ENABLED: '0', GOWORK: 'off' };
}

/** Returns the Go toolchain's version ("go1.26.8"), or throws a BuildError saying what to do. */
export async function goVersion(env: NodeJS.ProcessEnv): Promise<string> {
  let out: RunResult;
  try {
    out = await run('go', ['env', 'GOVERSION'], { cwd: process.cwd(), env });
  } catch (err) {
    throw new BuildError(
      'no envtest binaries were given and there is no Go toolchain to build them with. ' +
        'Either set KUBEBUILDER_ASSETS to a directory holding kube-apiserver, etcd and kubectl ' +
        '(or TEST_ASSET_KUBE_APISERVER / TEST_ASSET_ETCD / TEST_ASSET_KUBECTL to each binary), ' +
        `or install Go ≥ 1.26 and put it on PATH (${(err as Error).message})`,
      { cause: err },
    );
  }
  const version = out.stdout.trim();
  const match = /^go(\d+)\.(\d+)/.exec(version);
  if (!match || Number(match[1]) < 1 || (Number(match[1]) === 1 && Number(match[2]) < 26)) {
    throw new BuildError(
      `Kubernetes ${KUBERNETES_VERSION} needs Go ≥ 1.26 to build, and the Go on PATH is ${version || 'unknown'}. ` +
        'Install a newer Go, or set KUBEBUILDER_ASSETS to prebuilt envtest binaries.',
    );
  }
  return version;
}

async function downloadModule(module: string, version: string, env: NodeJS.ProcessEnv, cwd: string): Promise<GoModuleInfo> {
  const out = await run('go', ['mod', 'download', '-json', `${module}@${version}`], { cwd, env });
  const info = JSON.parse(out.stdout) as { GoMod?: string; Info?: string; Error?: string };
  if (info.Error || !info.GoMod) throw new BuildError(`go mod download ${module}@${version}: ${info.Error ?? 'no go.mod'}`);
  let time: string | undefined;
  if (info.Info) time = (JSON.parse(await readFile(info.Info, 'utf8')) as { Time?: string }).Time;
  return { goModPath: info.GoMod, time };
}

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

function toolsFile(imports: string[]): string {
  return `//go:build tools\n\npackage tools\n\nimport (\n${imports.map((i) => `\t_ "${i}"`).join('\n')}\n)\n`;
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

interface GoBuildOptions {
  dir: string;
  packages: string[];
  /** A directory ending in '/' for several packages, or the binary's path for one. */
  output: string;
  ldflags: string;
  env: NodeJS.ProcessEnv;
  label: string;
  log: BuildLogger;
}

async function goBuild(options: GoBuildOptions): Promise<void> {
  const { dir, env, log, label } = options;
  const listed = await run('go', ['list', '-deps', ...options.packages], { cwd: dir, env });
  const total = listed.stdout.split('\n').filter(Boolean).length;
  let compiled = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`building ${label}: ${compiled}/${total} packages compiled (${seconds}s)`);
  }, 15_000);
  try {
    await run('go', ['build', '-v', '-trimpath', '-ldflags', options.ldflags, '-o', options.output, ...options.packages], {
      cwd: dir,
      env,
      onStderrLine: (line) => {
        if (/^[\w.-]+(\/[\w.~+-]+)*$/.test(line.trim())) compiled++;
      },
    });
  } finally {
    clearInterval(timer);
  }
  log(`built ${label} in ${Math.round((Date.now() - started) / 1000)}s`);
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
  const go = await goVersion(env);
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
      await run('go', ['mod', 'tidy'], { cwd: kubeDir, env });
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
      await run('go', ['mod', 'tidy'], { cwd: etcdDir, env });
      await goBuild({ dir: etcdDir, packages: ['go.etcd.io/etcd/server/v3'], output: join(binDir, 'etcd'), ldflags: '-s -w', env, label: `etcd ${etcdVersion}`, log });
      await install(['etcd']);
    }
    await writeFile(join(options.cacheDir, 'VERSION'), `kubernetes ${version}\netcd ${etcdVersion}\nbuilt with ${go}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A Go program built from its module at a pinned version: helm, kwok, kube-state-metrics... */
export interface GoTool {
  /** The binary's name in the cache, e.g. helm. */
  name: string;
  /** The module that holds it, e.g. helm.sh/helm/v4. */
  module: string;
  /** The pinned release, e.g. v4.3.2. */
  version: string;
  /** The main package, e.g. helm.sh/helm/v4/cmd/helm. */
  package: string;
  /** `-X` assignments the release build makes, e.g. the version a binary reports. */
  ldflags?: string;
}

/**
 * Builds one Go tool into `<dir>/<name>`: a throwaway main module requires the tool's module
 * at the pinned version (so its own go.mod decides every dependency), then the binary is
 * renamed into place, so an interrupted or concurrent build never leaves half a binary.
 */
export async function buildGoTool(tool: GoTool, options: { dir: string; env?: NodeJS.ProcessEnv; log: BuildLogger }): Promise<string> {
  const env = goEnv(options.env);
  const go = await goVersion(env);
  await mkdir(options.dir, { recursive: true });
  const work = await mkdtemp(join(options.dir, `.build-${tool.name}-`));
  try {
    options.log(`building ${tool.name} ${tool.version} from ${tool.module} with ${go}; this runs once and is cached in ${options.dir}`);
    await writeFile(join(work, 'go.mod'), `module backlot.dev/envtest/${tool.name}\n\ngo 1.26.0\n\nrequire ${tool.module} ${tool.version}\n`);
    await writeFile(join(work, 'tools.go'), toolsFile([tool.package]));
    options.log(`resolving the module graph of ${tool.module} ${tool.version}`);
    await run('go', ['mod', 'tidy'], { cwd: work, env });
    const output = join(work, tool.name);
    await goBuild({ dir: work, packages: [tool.package], output, ldflags: ['-s -w', tool.ldflags ?? ''].join(' ').trim(), env, label: `${tool.name} ${tool.version}`, log: options.log });
    await chmod(output, 0o755);
    const target = join(options.dir, tool.name);
    await rename(output, target);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
