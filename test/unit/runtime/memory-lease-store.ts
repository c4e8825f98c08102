/**
 * A Lease held in memory, with the API server's optimistic concurrency (a stale
 * resourceVersion gets 409), for unit tests of leader election timing. The REST store is
 * exercised against a real API server in the integration tests.
 */
import { KubeApiError } from '../../../src/k8s/errors.ts';
import type { LeaseStore, StoredLease } from '../../../src/k8s/leases.ts';
import type { LeaderRecord } from '../../../src/k8s/leases.ts';

export class MemoryLeaseStore {
  lease: StoredLease | undefined;
  private version = 0;
  writes: Array<{ by: string; record: LeaderRecord }> = [];

  /** The store as one candidate sees it; `down` makes that candidate's requests fail. */
  view(name: string) {
    const state = { down: false };
    const fail = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const store: LeaseStore = {
      description: 'ns/lease',
      get: () => (state.down ? fail() : Promise.resolve(this.lease && structuredClone(this.lease))),
      create: (record) => {
        if (state.down) return fail();
        if (this.lease) return Promise.reject(KubeApiError.fromStatus({ code: 409, reason: 'AlreadyExists', message: 'exists' }, 409));
        return Promise.resolve(this.write(name, record));
      },
      update: (record, resourceVersion) => {
        if (state.down) return fail();
        if (this.lease?.resourceVersion !== resourceVersion)
          return Promise.reject(KubeApiError.fromStatus({ code: 409, reason: 'Conflict', message: 'changed' }, 409));
        return Promise.resolve(this.write(name, record));
      },
    };
    return { store, state };
  }

  private write(by: string, record: LeaderRecord): StoredLease {
    this.lease = { record: structuredClone(record), resourceVersion: String(++this.version) };
    this.writes.push({ by, record: structuredClone(record) });
    return structuredClone(this.lease);
  }
}
