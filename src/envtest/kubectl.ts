/**
 * How clients reach a local control plane: a kubeconfig for a client certificate of its CA,
 * and kubectl run with one.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { PemPair } from './pki.ts';

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubectlRun {
  binary: string;
  kubeconfig: string;
  args: string[];
  input?: string;
  timeoutMs?: number;
}

/** Runs kubectl; resolves with its output and exit code, rejects only when it could not run. */
export function runKubectl(run: KubectlRun): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      run.binary,
      [`--kubeconfig=${run.kubeconfig}`, ...run.args],
      { timeout: run.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(new Error(`could not run ${run.binary}: ${err.message}`, { cause: err }));
        resolve({ stdout, stderr, code: err ? Number(err.code) : 0 });
      },
    );
    if (run.input !== undefined) child.stdin?.end(run.input);
  });
}

/**
 * Writes a kubeconfig (mode 0600) with one cluster, `envtest`, at `server`, trusted through
 * `caPem`, and one user authenticated by the client certificate `pair`; its context's
 * namespace is `default`.
 */
export async function writeKubeconfig(path: string, cluster: { server: string; caPem: string }, user: string, pair: PemPair): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'envtest', cluster: { server: cluster.server, 'certificate-authority-data': b64(cluster.caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(pair.certPem), 'client-key-data': b64(pair.keyPem) } }],
    contexts: [{ name: 'envtest', context: { cluster: 'envtest', user, namespace: 'default' } }],
    'current-context': 'envtest',
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
}
