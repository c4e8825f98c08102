/**
 * `backlot run` as users start it: the real executable, its flags, its servers, its lease,
 * and an orderly SIGTERM (drain, release the lease, exit 0).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { freePort } from '../../src/envtest/controlplane.ts';
import { kubeConfig, kubeconfigPath, testNamespace } from '../support/cluster.ts';
import { installCrds } from '../support/crds.ts';
import { waitFor } from '../support/runtime-helpers.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

describe('backlot run', () => {
  let ns: { name: string; remove: () => Promise<void> };
  beforeAll(async () => {
    // The catalog's informers watch Backlot's kinds: without the CRDs they would never sync.
    await installCrds();
    ns = await testNamespace('rt-run');
  }, 120_000);
  afterAll(async () => {
    await ns.remove();
  });

  it('rejects an unknown flag with exit code 2 and a usage message', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [MAIN, 'run', '--leader-elect=maybe'], (err, _stdout, stderr) =>
        resolve({ code: err ? (err.code as number) : 0, stderr }),
      );
      child.stdin?.end();
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--leader-elect: "maybe" is not a boolean; expected --leader-elect, --leader-elect=true or --leader-elect=false');
    expect(result.stderr).toContain("Run 'backlot run --help' for usage.");
  });

  it('leads, serves metrics and probes, and on SIGTERM releases the lease and exits 0', async () => {
    const [metricsPort, probePort] = [await freePort(), await freePort()];
    let stderr = '';
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'run',
        `--kubeconfig=${kubeconfigPath()}`,
        '--leader-elect',
        `--leader-election-namespace=${ns.name}`,
        `--namespaces=${ns.name}`,
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        `--health-probe-bind-address=127.0.0.1:${probePort}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
    try {
      await waitFor('/readyz to answer 200', async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`)).status === 200, { timeoutMs: 30_000 });
      expect((await fetch(`http://127.0.0.1:${probePort}/healthz`)).status).toBe(200);
      const metrics = await waitFor('backlot_leader 1', async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return text.includes('\nbacklot_leader 1\n') ? text : undefined;
      });
      for (const family of [
        'backlot_reconcile_total',
        'backlot_reconcile_errors_total',
        'backlot_reconcile_duration_seconds',
        'backlot_workqueue_depth',
        'backlot_workqueue_adds_total',
        'backlot_workqueue_retries_total',
        'backlot_workqueue_queue_duration_seconds',
        'backlot_informer_synced',
        'backlot_watch_restarts_total',
        'process_cpu_seconds_total',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect(metrics).toContain(`# TYPE ${family} `);
      }
      const leases = kubeConfig().makeApiClient(CoordinationV1Api);
      const held = await leases.readNamespacedLease({ name: 'backlot-leader', namespace: ns.name });
      expect(held.spec?.holderIdentity).toMatch(/_[0-9a-f-]{36}$/);

      const termAt = Date.now();
      child.kill('SIGTERM');
      const exit = await exited;
      expect(exit.code).toBe(0);
      expect(exit.at - termAt).toBeLessThan(30_000);
      const released = await leases.readNamespacedLease({ name: 'backlot-leader', namespace: ns.name });
      expect(released.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
      const messages = stderr
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(messages).toEqual(expect.arrayContaining(['operator starting', 'became leader', 'lease released', 'operator stopped']));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
