/**
 * Leader election against the real API server: the Lease is created and renewed with
 * optimistic concurrency, two candidates racing for it end with one leader, and a released
 * lease is taken over by the other candidate without waiting for it to expire.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { RestLeaseStore } from '../../src/k8s/leases.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { LeaderElector } from '../../src/runtime/leader.ts';
import { kubeConfig, testNamespace } from '../support/cluster.ts';
import { recordingLogger, waitFor } from '../support/runtime-helpers.ts';

describe('LeaderElector on a real Lease', () => {
  const kc = kubeConfig();
  let ns: { name: string; remove: () => Promise<void> };
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    ns = await testNamespace('rt-leader');
  });
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
    await ns.remove();
  });

  function start(identity: string) {
    const { logger } = recordingLogger('info');
    const log: string[] = [];
    const elector = new LeaderElector({
      identity,
      lease: new RestLeaseStore({ client: new RestClient(kc), namespace: ns.name, name: 'race' }),
      logger,
      leaseDurationMs: 4_000,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 500,
      callbacks: {
        onStartedLeading: () => log.push('started'),
        onStoppedLeading: (reason) => {
          log.push(`stopped:${reason}`);
          return Promise.resolve();
        },
      },
    });
    const controller = new AbortController();
    const running = elector.run(controller.signal);
    const stop = async () => {
      controller.abort();
      await running;
    };
    stops.push(stop);
    return { elector, log, stop };
  }

  it('elects one of two racing candidates, renews, and hands over on release', async () => {
    const candidates = [start('alpha'), start('beta')];
    const leader = await waitFor('a leader', () => candidates.find((c) => c.elector.isLeader));
    const standby = candidates.find((c) => c !== leader)!;

    const leases = kc.makeApiClient(CoordinationV1Api);
    const first = await leases.readNamespacedLease({ name: 'race', namespace: ns.name });
    expect(first.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(first.spec?.leaseDurationSeconds).toBe(4);
    // Renewals move renewTime while the leader stays the same.
    await waitFor('a renewal', async () => {
      const now = await leases.readNamespacedLease({ name: 'race', namespace: ns.name });
      // MicroTime fields come back as strings or Dates depending on the client's deserializer.
      return Date.parse(String(now.spec?.renewTime)) > Date.parse(String(first.spec?.renewTime));
    });
    expect(standby.elector.isLeader).toBe(false);
    expect(standby.log).toEqual([]);

    await leader.stop();
    expect(leader.log).toEqual(['started', 'stopped:shutdown']);
    const released = await leases.readNamespacedLease({ name: 'race', namespace: ns.name });
    // Either still released, or the standby has already taken it.
    expect(['', standby.elector.identity]).toContain(released.spec?.holderIdentity ?? '');
    await waitFor('the standby to take over', () => standby.elector.isLeader, { timeoutMs: 5_000 });
    const taken = await leases.readNamespacedLease({ name: 'race', namespace: ns.name });
    expect(taken.spec).toMatchObject({ holderIdentity: standby.elector.identity, leaseDurationSeconds: 4, leaseTransitions: 1 });
  });
});
