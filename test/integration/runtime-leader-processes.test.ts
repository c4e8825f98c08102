/**
 * Fault: operator instances as separate processes, racing for one Lease. Exactly one of them
 * writes; when the leader is SIGKILLed the standby takes over once the lease expires (within
 * 20 s), and when the leader gets SIGTERM it drains, releases the lease and exits 0, and the
 * standby takes over within 5 s.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubeConfig, kubeconfigPath, testNamespace } from '../support/cluster.ts';
import { ANNOTATED_BY } from '../support/operator-annotator.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { waitFor } from '../support/runtime-helpers.ts';

describe('fault: two operator processes, one lease', () => {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  let ns: { name: string; remove: () => Promise<void> };
  const processes: OperatorProcess[] = [];

  const start = (name: string) => {
    const p = new OperatorProcess(name, [
      `--kubeconfig=${kubeconfigPath()}`,
      '--leader-elect',
      `--leader-election-namespace=${ns.name}`,
      `--namespaces=${ns.name}`,
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
      '--workers=2',
    ]);
    processes.push(p);
    return p;
  };
  const annotations = async () => {
    const list = await core.listNamespacedConfigMap({ namespace: ns.name });
    return new Map(list.items.map((c) => [c.metadata?.name ?? '', c.metadata?.annotations?.[ANNOTATED_BY]]));
  };
  const allAnnotatedBy = async (identity: string | undefined) => {
    const all = await annotations();
    return identity !== undefined && all.size > 0 && [...all.values()].every((v) => v === identity);
  };
  const leaderGauge = async (p: OperatorProcess) => {
    const text = await (await fetch(`http://${p.address('metrics')}/metrics`)).text();
    return Number(/^backlot_leader (\d+)$/m.exec(text)?.[1]);
  };

  beforeAll(async () => {
    ns = await testNamespace('rt-two');
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: `cm-${i}` } } });
  });
  afterAll(async () => {
    for (const p of processes) if (p.running) p.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await ns.remove();
  });

  it('one writes; SIGKILL hands over within 20 s, SIGTERM within 5 s', async () => {
    const a = start('a');
    await waitFor('a to lead', () => a.find('became leader'), { timeoutMs: 30_000 });
    const b = start('b');
    await waitFor('b to be ready and campaigning', () => b.find('new leader observed') && b.address('metrics'), { timeoutMs: 30_000 });
    await waitFor('every ConfigMap annotated by a', () => allAnnotatedBy(a.identity), { timeoutMs: 30_000 });

    // While both run, only the leader writes.
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'while-both-run' } } });
    await waitFor('the new ConfigMap annotated by a', () => allAnnotatedBy(a.identity));
    await waitFor('a to log its sixth write', () => a.count('configmap annotated') >= 6);
    expect(b.count('configmap annotated')).toBe(0);
    expect(b.find('controllers started')).toBeUndefined();
    expect([await leaderGauge(a), await leaderGauge(b)]).toEqual([1, 0]);

    // SIGKILL: no release; b waits out the lease (15 s) from the last renewal it saw.
    const killedAt = a.kill('SIGKILL');
    await a.exited;
    const bLeads = await waitFor('b to lead', () => b.find('became leader'), { timeoutMs: 30_000 });
    const sigkillTakeoverMs = (bLeads.time as number) - killedAt;
    await waitFor('every ConfigMap annotated by b', () => allAnnotatedBy(b.identity), { timeoutMs: 30_000 });
    expect(await leaderGauge(b)).toBe(1);

    // SIGTERM: b drains and releases; c, already campaigning, takes over at its next attempt.
    const c = start('c');
    await waitFor('c to be campaigning', () => c.find('new leader observed', { leader: b.identity }), { timeoutMs: 30_000 });
    const termAt = b.kill('SIGTERM');
    const bExit = await b.exited;
    const cLeads = await waitFor('c to lead', () => c.find('became leader'), { timeoutMs: 30_000 });
    const sigtermTakeoverMs = (cLeads.time as number) - termAt;
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'after-handover' } } });
    await waitFor('every ConfigMap annotated by c', () => allAnnotatedBy(c.identity), { timeoutMs: 30_000 });

    process.stderr.write(
      `[runtime-leader-processes] takeover after SIGKILL: ${sigkillTakeoverMs} ms; after SIGTERM: ${sigtermTakeoverMs} ms; SIGTERM exit after ${bExit.at - termAt} ms\n`,
    );
    expect(sigkillTakeoverMs).toBeLessThanOrEqual(20_000);
    expect(sigtermTakeoverMs).toBeLessThanOrEqual(5_000);
    expect(bExit).toMatchObject({ code: 0, signal: null });
    expect(bExit.at - termAt).toBeLessThan(30_000);
    expect(b.find('lease released')).toBeDefined();
    // Writers never overlapped: b wrote only after a was gone, c only after b had released.
    const writes = (p: OperatorProcess) => p.lines.filter((l) => l.msg === 'configmap annotated').map((l) => l.time as number);
    expect(Math.min(...writes(b))).toBeGreaterThan(killedAt);
    expect(Math.max(...writes(b))).toBeLessThan(cLeads.time as number);
    expect(Math.min(...writes(c))).toBeGreaterThanOrEqual(cLeads.time as number);
  }, 180_000);
});
