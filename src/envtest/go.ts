/**
 * The machine's Go toolchain, as the local control plane's builds use it: the environment
 * every build runs with, the version check, `go mod download`, a `go build` that reports its
 * progress, and the build of one pinned Go tool (helm, kwok, ...) from its module.
 * build.ts builds the Kubernetes binaries and etcd on top of these.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
      else reject(new BuildError(`${command} ${args.join(' ')} exited with code ${code ?? 'null'} in ${options.cwd}:\n${tail.join('\n')}`));
    });
  });
}

/** Runs `go <args>`; rejects with a BuildError holding the end of its stderr when it fails. */
export function runGo(args: string[], options: RunOptions): Promise<RunResult> {
  return run('go', args, options);
}

export function goEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', CGO_ENABLED: '0', GOWORK: 'off' };
}

/**
 * Returns the Go toolchain's version ("go1.26.8"), or throws a BuildError saying what to do.
 * `needs` names what is being built, for the message when the Go on PATH is too old
 * (every throwaway module here says `go 1.26.0`).
 */
export async function goVersion(env: NodeJS.ProcessEnv, needs: string): Promise<string> {
  let out: RunResult;
  try {
    out = await runGo(['env', 'GOVERSION'], { cwd: process.cwd(), env });
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
      `${needs} needs Go ≥ 1.26 to build, and the Go on PATH is ${version || 'unknown'}. ` +
        'Install a newer Go, or set KUBEBUILDER_ASSETS to prebuilt envtest binaries.',
    );
  }
  return version;
}

export async function downloadModule(module: string, version: string, env: NodeJS.ProcessEnv, cwd: string): Promise<GoModuleInfo> {
  const out = await runGo(['mod', 'download', '-json', `${module}@${version}`], { cwd, env });
  const info = JSON.parse(out.stdout) as { GoMod?: string; Info?: string; Error?: string };
  if (info.Error || !info.GoMod) throw new BuildError(`go mod download ${module}@${version}: ${info.Error ?? 'no go.mod'}`);
  let time: string | undefined;
  if (info.Info) time = (JSON.parse(await readFile(info.Info, 'utf8')) as { Time?: string }).Time;
  return { goModPath: info.GoMod, time };
}

/** A tools.go that imports the given packages, so that `go mod tidy` keeps their modules. */
export function toolsFile(imports: string[]): string {
  return `//go:build tools\n\npackage tools\n\nimport (\n${imports.map((i) => `\t_ "${i}"`).join('\n')}\n)\n`;
}

export interface GoBuildOptions {
  dir: string;
  packages: string[];
  /** A directory ending in '/' for several packages, or the binary's path for one. */
  output: string;
  ldflags: string;
  env: NodeJS.ProcessEnv;
  label: string;
  log: BuildLogger;
}

/** `go build` of the packages, logging how many of their dependencies are compiled every 15 s. */
export async function goBuild(options: GoBuildOptions): Promise<void> {
  const { dir, env, log, label } = options;
  const listed = await runGo(['list', '-deps', ...options.packages], { cwd: dir, env });
  const total = listed.stdout.split('\n').filter(Boolean).length;
  let compiled = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`building ${label}: ${compiled}/${total} packages compiled (${seconds}s)`);
  }, 15_000);
  try {
    await runGo(['build', '-v', '-trimpath', '-ldflags', options.ldflags, '-o', options.output, ...options.packages], {
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
  const go = await goVersion(env, `${tool.name} ${tool.version}`);
  await mkdir(options.dir, { recursive: true });
  const work = await mkdtemp(join(options.dir, `.build-${tool.name}-`));
  try {
    options.log(`building ${tool.name} ${tool.version} from ${tool.module} with ${go}; this runs once and is cached in ${options.dir}`);
    await writeFile(join(work, 'go.mod'), `module backlot.dev/envtest/${tool.name}\n\ngo 1.26.0\n\nrequire ${tool.module} ${tool.version}\n`);
    await writeFile(join(work, 'tools.go'), toolsFile([tool.package]));
    options.log(`resolving the module graph of ${tool.module} ${tool.version}`);
    await runGo(['mod', 'tidy'], { cwd: work, env });
    const output = join(work, tool.name);
    await goBuild({
      dir: work,
      packages: [tool.package],
      output,
      ldflags: ['-s -w', tool.ldflags ?? ''].join(' ').trim(),
      env,
      label: `${tool.name} ${tool.version}`,
      log: options.log,
    });
    await chmod(output, 0o755);
    const target = join(options.dir, tool.name);
    await rename(output, target);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
