/**
 * Reading and writing a coordination.k8s.io/v1 Lease as a LeaderRecord, with optimistic
 * concurrency: every update carries the resourceVersion it read, so of two candidates
 * writing at once one gets 409 Conflict.
 */
import { isNotFound } from './errors.ts';
import type { KubeObject } from './object.ts';
import { collectionPath, LEASES, objectPath } from './resource.ts';
import type { RestClient } from './rest.ts';

/**
 * What a Lease's spec says about leadership (client-go's resourcelock.LeaderElectionRecord):
 * what the elector in src/runtime reads and writes through a LeaseStore.
 */
export interface LeaderRecord {
  /** '' when nobody holds the lease (it was released). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** Epoch milliseconds. */
  acquireTime: number | undefined;
  renewTime: number | undefined;
  leaseTransitions: number;
}

export interface StoredLease {
  record: LeaderRecord;
  resourceVersion: string;
}

/** What the elector needs from the API server; one Lease. */
export interface LeaseStore {
  /** The lease, or undefined when it does not exist. */
  get(signal: AbortSignal): Promise<StoredLease | undefined>;
  create(record: LeaderRecord, signal: AbortSignal): Promise<StoredLease>;
  /** Rejects with 409 when the lease changed since `resourceVersion` was read. */
  update(record: LeaderRecord, resourceVersion: string, signal: AbortSignal): Promise<StoredLease>;
  /** `namespace/name`, for logs. */
  readonly description: string;
}

interface LeaseObject extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** RFC 3339 with microseconds, the form of metav1.MicroTime. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function recordFromLease(lease: LeaseObject): LeaderRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: parseTime(spec.acquireTime),
    renewTime: parseTime(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function specFromRecord(record: LeaderRecord): NonNullable<LeaseObject['spec']> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    ...(record.acquireTime !== undefined ? { acquireTime: formatMicroTime(record.acquireTime) } : {}),
    ...(record.renewTime !== undefined ? { renewTime: formatMicroTime(record.renewTime) } : {}),
    leaseTransitions: record.leaseTransitions,
  };
}

export class RestLeaseStore implements LeaseStore {
  readonly description: string;
  private readonly client: RestClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly requestTimeoutMs: number;

  constructor(options: { client: RestClient; namespace: string; name: string; requestTimeoutMs?: number }) {
    this.client = options.client;
    this.namespace = options.namespace;
    this.name = options.name;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.description = `${options.namespace}/${options.name}`;
  }

  async get(signal: AbortSignal): Promise<StoredLease | undefined> {
    try {
      const lease = await this.client.request<LeaseObject>({ path: objectPath(LEASES, this.name, this.namespace), signal, timeoutMs: this.requestTimeoutMs });
      return stored(lease);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(record: LeaderRecord, signal: AbortSignal): Promise<StoredLease> {
    const body: LeaseObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: specFromRecord(record),
    };
    const lease = await this.client.request<LeaseObject>({
      method: 'POST',
      path: collectionPath(LEASES, this.namespace),
      body,
      signal,
      timeoutMs: this.requestTimeoutMs,
    });
    return stored(lease);
  }

  async update(record: LeaderRecord, resourceVersion: string, signal: AbortSignal): Promise<StoredLease> {
    const body: LeaseObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, resourceVersion },
      spec: specFromRecord(record),
    };
    const lease = await this.client.request<LeaseObject>({
      method: 'PUT',
      path: objectPath(LEASES, this.name, this.namespace),
      body,
      signal,
      timeoutMs: this.requestTimeoutMs,
    });
    return stored(lease);
  }
}

function stored(lease: LeaseObject): StoredLease {
  return { record: recordFromLease(lease), resourceVersion: lease.metadata?.resourceVersion ?? '' };
}
