/**
 * The other binaries tests and tooling run beside the control plane (helm, ...), each built
 * from its Go module at a pinned version into the binary cache, the way the control plane's
 * own binaries are, unless the environment names a prebuilt one.
 *
 * Order, for each tool: its TEST_ASSET_<NAME> variable (a path to the binary; an error when
 * nothing executable is there), then `<cache root>/tools/<name>-<version>-<os>-<arch>/<name>`
 * under the envtest cache root (`$BACKLOT_ENVTEST_CACHE/..`, or
 * `${XDG_CACHE_HOME:-~/.cache}/backlot/envtest`), built with the machine's Go on first use.
 */
import { dirname, join } from 'node:path';
import { AssetError, defaultCacheDir, isExecutable } from './assets.ts';
import { buildGoTool, type BuildLogger, type GoTool } from './go.ts';

/** The pinned tools. Versions move only with a reason in the commit. */
export const TOOLS = {
  helm: {
    name: 'helm',
    module: 'helm.sh/helm/v4',
    version: 'v4.3.2',
    package: 'helm.sh/helm/v4/cmd/helm',
    ldflags: '-X helm.sh/helm/v4/internal/version.version=v4.3.2',
  },
  // The newest release (go.mod: go 1.26.0, client-go v0.36.1, no replace directives); it runs
  // the realistic cluster's fake nodes and moves their pods through src/envtest/kwok/stages.yaml.
  kwok: {
    name: 'kwok',
    module: 'sigs.k8s.io/kwok',
    version: 'v0.8.0',
    package: 'sigs.k8s.io/kwok/cmd/kwok',
    ldflags: '-X sigs.k8s.io/kwok/pkg/consts.Version=v0.8.0',
  },
  // The benchmark's peer (scripts/bench-peer.ts): a one-process exporter that lists and watches
  // the same workloads Backlot does. go.mod: go 1.26.0, client-go v0.36.3, no replace
  // directives; the main package is the module root. The version variables are the ones its
  // Makefile sets (prometheus/common's version package, and the client-go it was released with).
  'kube-state-metrics': {
    name: 'kube-state-metrics',
    module: 'k8s.io/kube-state-metrics/v2',
    version: 'v2.20.0',
    package: 'k8s.io/kube-state-metrics/v2',
    ldflags:
      '-X github.com/prometheus/common/version.Version=v2.20.0 -X github.com/prometheus/common/version.BuildDate=2026-08-17T20:49:04Z ' +
      '-X k8s.io/kube-state-metrics/v2/pkg/app.ClientGoVersion=v0.36.3',
  },
} as const satisfies Record<string, GoTool>;

export type ToolName = keyof typeof TOOLS;

/** TEST_ASSET_HELM for helm: the variable that names a prebuilt binary. */
export function toolEnvVar(name: string): string {
  return `TEST_ASSET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Where a tool is cached: beside the control plane's versioned directories. */
export function toolCacheDir(tool: GoTool, env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(defaultCacheDir(env)), 'tools', `${tool.name}-${tool.version}-${process.platform}-${process.arch}`);
}

/** The path of a tool's binary, building it into the cache when the environment names none. */
export async function resolveTool(name: ToolName, options: { env?: NodeJS.ProcessEnv; log?: BuildLogger } = {}): Promise<string> {
  const env = options.env ?? process.env;
  const tool: GoTool = TOOLS[name];
  const variable = toolEnvVar(tool.name);
  const given = env[variable];
  if (given) {
    if (!(await isExecutable(given))) throw new AssetError(`${variable} names ${given} for ${tool.name}, but there is no executable file there`);
    return given;
  }
  const dir = toolCacheDir(tool, env);
  const cached = join(dir, tool.name);
  if (await isExecutable(cached)) return cached;
  const log = options.log ?? ((line: string) => process.stderr.write(`[envtest] ${line}\n`));
  return buildGoTool(tool, { dir, env, log });
}
