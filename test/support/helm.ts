/**
 * helm, as the tests run it: the binary built from its Go module into the envtest cache
 * (src/envtest/tools.ts, never a downloaded release), with its cache, configuration and data
 * in a directory of the test's own, against the chart in charts/backlot.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resolveTool } from '../../src/envtest/tools.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { REPO_ROOT } from './deploy.ts';

export const CHART_DIR = join(REPO_ROOT, 'charts/backlot');

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A release as the chart's commands name it: `helm <command> NAME CHART -n NAMESPACE -f values`. */
export interface ReleaseOptions {
  release?: string;
  namespace?: string;
  /**
   * Written to a values file (-f), so types arrive as they would from one; as JSON, which Helm
   * reads as YAML, because Helm's YAML is 1.1, where an unquoted yes or no is a boolean.
   */
  values?: Record<string, unknown>;
}

export class Helm {
  readonly binary: string;
  private readonly home: string;
  private readonly kubeconfig: string | undefined;

  private constructor(binary: string, home: string, kubeconfig: string | undefined) {
    this.binary = binary;
    this.home = home;
    this.kubeconfig = kubeconfig;
  }

  /** `kubeconfig`: the cluster that install, upgrade and uninstall talk to. */
  static async create(options: { kubeconfig?: string } = {}): Promise<Helm> {
    const binary = await resolveTool('helm');
    return new Helm(binary, await mkdtemp(join(tmpdir(), 'backlot-helm-')), options.kubeconfig);
  }

  /** Runs helm; resolves with its output and exit code, rejects only when it could not run. */
  run(args: readonly string[]): Promise<HelmResult> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      HELM_CACHE_HOME: join(this.home, 'cache'),
      HELM_CONFIG_HOME: join(this.home, 'config'),
      HELM_DATA_HOME: join(this.home, 'data'),
      ...(this.kubeconfig ? { KUBECONFIG: this.kubeconfig } : {}),
    };
    return new Promise((resolve, reject) => {
      execFile(this.binary, args, { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(new Error(`could not run ${this.binary}: ${err.message}`, { cause: err }));
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      });
    });
  }

  /** Runs helm and returns its stdout; throws with its stderr when it fails. */
  async ok(args: readonly string[]): Promise<string> {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`helm ${args.join(' ')} (exit ${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** NAME CHART -n NAMESPACE [-f values], the arguments install, upgrade and template share. */
  async releaseArgs(options: ReleaseOptions = {}): Promise<string[]> {
    const args = [options.release ?? 'backlot', CHART_DIR, '--namespace', options.namespace ?? 'backlot-system'];
    if (options.values) {
      const file = join(this.home, `values-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
      await writeFile(file, JSON.stringify(options.values));
      args.push('--values', file);
    }
    return args;
  }

  /** `helm template`: the objects the chart renders. */
  async template(options: ReleaseOptions = {}): Promise<KubeObject[]> {
    return parseObjects(await this.ok(['template', ...(await this.releaseArgs(options))]));
  }

  /** `helm template` that is expected to fail: its error message. */
  async templateError(options: ReleaseOptions): Promise<string> {
    const r = await this.run(['template', ...(await this.releaseArgs(options))]);
    if (r.code === 0) throw new Error(`helm template succeeded with ${JSON.stringify(options.values)}`);
    return r.stderr;
  }

  async remove(): Promise<void> {
    await rm(this.home, { recursive: true, force: true });
  }
}

/** The objects of a multi-document YAML stream, empty documents left out. */
export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}
