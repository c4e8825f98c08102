/**
 * The moments the benchmark's realistic-cluster latency phase reads from watch events
 * (scripts/bench-real-latency.ts): t1 when the Deployment's status shows the controllers have
 * finished, t2 when the Component's status shows the outcome. The event sequences are the
 * ones the real controllers and Backlot produced in a run of the phase.
 */
import { describe, expect, it } from '@jest/globals';
import { TimedChange, type ComponentObject, type DeploymentObject } from '../../../scripts/bench-real-latency.ts';

const GOOD = 'registry.example/app:1';
const NEW = 'registry.example/app:2';
const UNREADY = 'registry.example/app:unready';

interface State {
  spec: number;
  image: string;
  observed: number;
  replicas: number;
  updated?: number;
  ready: number;
  available: number;
}

/** The Deployment at generation 3 (created, Backlot's annotations, the user's change). */
function deployment(s: State): DeploymentObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { namespace: 'ns', name: 'web', generation: 3 },
    spec: { replicas: s.spec, template: { spec: { containers: [{ name: 'app', image: s.image }] } } },
    status: { observedGeneration: s.observed, replicas: s.replicas, updatedReplicas: s.updated, readyReplicas: s.ready, availableReplicas: s.available },
  };
}

function component(entry: { ready: boolean; replicas: number; readyReplicas: number }, message = ''): ComponentObject {
  return {
    apiVersion: 'catalog.backlot.dev/v1alpha1',
    kind: 'Component',
    metadata: { namespace: 'ns', name: 'svc' },
    status: {
      workloads: [
        { kind: 'Deployment', name: 'other', ready: true, replicas: 2, readyReplicas: 2 },
        { kind: 'Deployment', name: 'web', ...entry },
      ],
      conditions: [
        {
          type: 'WorkloadsReady',
          status: entry.ready ? 'True' : 'False',
          reason: entry.ready ? 'AllWorkloadsReady' : 'WorkloadsNotReady',
          message,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
}

const web = (replicas: number) => ({ namespace: 'ns', name: 'web', replicas });

describe('TimedChange', () => {
  it('a scale-down is done when the surplus pod is gone, not when the rule first reads ready', () => {
    const change = new TimedChange('scale', web(3), 2, 1000);
    change.onDeployment(deployment({ spec: 2, image: GOOD, observed: 2, replicas: 3, updated: 3, ready: 3, available: 3 }), 1011);
    change.onComponent(component({ ready: false, replicas: 2, readyReplicas: 3 }), 1037);
    // Observed, and ready by kubectl's and Backlot's rule, with three pods still counted.
    change.onDeployment(deployment({ spec: 2, image: GOOD, observed: 3, replicas: 3, updated: 3, ready: 3, available: 3 }), 1051);
    change.onComponent(component({ ready: true, replicas: 2, readyReplicas: 3 }), 1080);
    expect([change.t1, change.t2]).toEqual([undefined, undefined]);
    change.onDeployment(deployment({ spec: 2, image: GOOD, observed: 3, replicas: 2, updated: 2, ready: 2, available: 2 }), 1085);
    change.onComponent(component({ ready: true, replicas: 2, readyReplicas: 2 }), 1092);
    expect([change.t1, change.t2, change.seen]).toEqual([1085, 1092, true]);
  });

  it('a scale-up is done when the new pod is ready, and shown when the Component counts it', () => {
    const change = new TimedChange('scale', web(2), 3, 0);
    change.onDeployment(deployment({ spec: 3, image: GOOD, observed: 3, replicas: 3, updated: 3, ready: 2, available: 2 }), 90);
    change.onComponent(component({ ready: false, replicas: 3, readyReplicas: 2 }), 126);
    change.onDeployment(deployment({ spec: 3, image: GOOD, observed: 3, replicas: 3, updated: 3, ready: 3, available: 3 }), 133);
    expect([change.t1, change.t2]).toEqual([133, undefined]);
    change.onComponent(component({ ready: true, replicas: 3, readyReplicas: 3 }), 158);
    expect(change.t2).toBe(158);
  });

  it('a rolling update is shown when the Component, having shown it under way, reads ready again', () => {
    const change = new TimedChange('image', web(2), NEW, 0);
    // A status write for another reason, before Backlot has seen the new spec: not the outcome.
    change.onComponent(component({ ready: true, replicas: 2, readyReplicas: 2 }), 5);
    change.onDeployment(deployment({ spec: 2, image: NEW, observed: 2, replicas: 2, updated: 2, ready: 2, available: 2 }), 12);
    change.onComponent(component({ ready: false, replicas: 2, readyReplicas: 2 }), 33);
    change.onDeployment(deployment({ spec: 2, image: NEW, observed: 3, replicas: 3, updated: 1, ready: 3, available: 3 }), 151);
    change.onDeployment(deployment({ spec: 2, image: NEW, observed: 3, replicas: 3, updated: 2, ready: 3, available: 3 }), 300);
    expect([change.shownInProgress, change.t1, change.t2]).toEqual([33, undefined, undefined]);
    change.onDeployment(deployment({ spec: 2, image: NEW, observed: 3, replicas: 2, updated: 2, ready: 2, available: 2 }), 351);
    change.onComponent(component({ ready: true, replicas: 2, readyReplicas: 2 }), 357);
    expect([change.t1, change.t2]).toEqual([351, 357]);
  });

  it('an unready image is shown when the Component gives the stalled rollout as the reason, not merely not ready', () => {
    const change = new TimedChange('unready', web(2), UNREADY, 0);
    change.onDeployment(deployment({ spec: 2, image: UNREADY, observed: 2, replicas: 2, updated: 2, ready: 2, available: 2 }), 10);
    change.onComponent(
      component(
        { ready: false, replicas: 2, readyReplicas: 2 },
        '1/2 workloads not ready: Deployment web (its controller has not yet observed the latest spec)',
      ),
      35,
    );
    change.onDeployment(deployment({ spec: 2, image: UNREADY, observed: 3, replicas: 2, ready: 2, available: 2 }), 37);
    expect(change.t1).toBeUndefined();
    change.onDeployment(deployment({ spec: 2, image: UNREADY, observed: 3, replicas: 3, updated: 1, ready: 2, available: 2 }), 95);
    expect(change.t1).toBe(95);
    expect([...change.stalledDetails]).toEqual(['1/2 replicas updated, 2 old replicas still running']);
    change.onComponent(
      component(
        { ready: false, replicas: 2, readyReplicas: 2 },
        '1/2 workloads not ready: Deployment web (0/2 replicas updated, 2 old replicas still running)',
      ),
      96,
    );
    expect(change.t2).toBeUndefined();
    change.onComponent(
      component(
        { ready: false, replicas: 2, readyReplicas: 2 },
        '1/2 workloads not ready: Deployment web (1/2 replicas updated, 2 old replicas still running)',
      ),
      102,
    );
    expect(change.t2).toBe(102);
  });

  it('a rollback is shown when the Component reads the Deployment ready again; later events are not recorded', () => {
    const change = new TimedChange('rollback', web(2), GOOD, 0);
    change.onDeployment(deployment({ spec: 2, image: GOOD, observed: 3, replicas: 3, updated: 2, ready: 2, available: 2 }), 40);
    change.onComponent(component({ ready: false, replicas: 2, readyReplicas: 2 }), 50);
    change.onDeployment(deployment({ spec: 2, image: GOOD, observed: 3, replicas: 2, updated: 2, ready: 2, available: 2 }), 75);
    change.onComponent(component({ ready: true, replicas: 2, readyReplicas: 2 }), 90);
    expect([change.t1, change.t2]).toEqual([75, 90]);
    const traced = change.trace.length;
    change.onComponent(component({ ready: true, replicas: 2, readyReplicas: 2 }), 120);
    expect(change.trace.length).toBe(traced);
    expect(change.t2).toBe(90);
  });
});
