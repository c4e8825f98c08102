/**
 * Status shapes. Status is written by the operator only (through the status subresource);
 * the bounds here cap what one status write may carry.
 */
import { z } from 'zod';
import { CONDITION_STATUSES } from './conditions.ts';
import { REF_MAX_LENGTH } from './refs.ts';
import { WORKLOAD_KINDS } from './workloads.ts';

export const STATUS_LIMITS = { conditions: 16, workloads: 256, dependencies: 128, workloadName: 253 } as const;

const int64 = { format: 'int64' } as const;
const int32 = { format: 'int32' } as const;

/** metav1.Condition, with the API server's own bounds and patterns. */
export const Condition = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(new RegExp('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$'))
      .describe('The condition type, CamelCase: Ready, WorkloadsReady, DependenciesReady or RefsResolved.'),
    status: z.enum(CONDITION_STATUSES).describe('True, False or Unknown.'),
    observedGeneration: z.int().min(0).meta(int64).optional().describe('The metadata.generation the condition was computed from.'),
    lastTransitionTime: z.iso.datetime({ offset: true }).describe('When the status last changed from one value to another (RFC 3339).'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(new RegExp('^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$'))
      .describe('A CamelCase reason for the last transition, e.g. AllWorkloadsReady or DependencyNotFound.'),
    message: z.string().max(32768).describe('A human-readable explanation of the transition.'),
  })
  .describe("One aspect of the entity's state (metav1.Condition).");
export type Condition = z.infer<typeof Condition>;

const conditions = z
  .array(Condition)
  .max(STATUS_LIMITS.conditions)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .optional()
  .describe("The entity's conditions, one per type: Ready, and where they apply WorkloadsReady, DependenciesReady, RefsResolved.");

/** What every kind's status has. */
export const entityStatusFields = {
  observedGeneration: z.int().min(0).meta(int64).optional().describe('The metadata.generation this status was computed from.'),
  conditions,
};

export const EntityStatus = z.object(entityStatusFields).describe('The state Backlot observed for the entity. Written by the operator.');
export type EntityStatus = z.infer<typeof EntityStatus>;

export const WorkloadStatus = z
  .object({
    kind: z.enum(WORKLOAD_KINDS).describe('The workload kind.'),
    name: z.string().max(STATUS_LIMITS.workloadName).describe("The workload name, in the entity's namespace."),
    ready: z
      .boolean()
      .describe('True when the workload has all the replicas it wants ready (a Service: it has ready endpoints; a CronJob: its last run did not fail).'),
    replicas: z.int().min(0).meta(int32).optional().describe('The replicas the workload wants, where it has replicas.'),
    readyReplicas: z.int().min(0).meta(int32).optional().describe('The replicas that are ready, where it has replicas.'),
  })
  .describe('A workload the entity claims.');
export type WorkloadStatus = z.infer<typeof WorkloadStatus>;

export const DependencyStatus = z
  .object({
    ref: z.string().max(REF_MAX_LENGTH).describe('The dependency, as a canonical reference kind:namespace/name.'),
    found: z.boolean().describe('True when the referenced entity exists.'),
    ready: z.boolean().describe('True when the referenced entity exists and its Ready condition is True.'),
  })
  .describe('The state of one entity named in dependsOn.');
export type DependencyStatus = z.infer<typeof DependencyStatus>;

const count = (description: string) => z.int().min(0).meta(int32).optional().describe(description);

/**
 * Whole lists, written by the operator alone: server-side apply then tracks each as one
 * field instead of every field of every element, which makes managedFields smaller and each
 * status write cheaper for the API server (docs/benchmarks.md has the figures). Backlot builds
 * them without duplicates, sorted by key.
 * Conditions stay a map keyed by type, as metav1.Condition lists are.
 */
const ATOMIC_LIST = { 'x-kubernetes-list-type': 'atomic' } as const;

/** The status of a kind that claims workloads and has dependencies: Component, Resource. */
export const WorkloadEntityStatus = z
  .object({
    ...entityStatusFields,
    workloads: z
      .array(WorkloadStatus)
      .max(STATUS_LIMITS.workloads)
      .meta(ATOMIC_LIST)
      .optional()
      .describe(
        'The workloads the entity claims, with their readiness, one per kind and name, ordered by kind and name; at most 256 (totalWorkloads counts them all).',
      ),
    dependencies: z
      .array(DependencyStatus)
      .max(STATUS_LIMITS.dependencies)
      .meta(ATOMIC_LIST)
      .optional()
      .describe(
        "The entity's dependencies (named in its dependsOn, or naming it in their dependencyOf), with whether each exists and is Ready, one per ref, ordered by ref; at most 128 (totalDependencies counts them all).",
      ),
    readyWorkloads: count('How many claimed workloads are ready, whether listed in workloads or not.'),
    totalWorkloads: count('How many workloads the entity claims: the whole count, when workloads lists only the first 256.'),
    totalDependencies: count('How many dependencies the entity has: the whole count, when dependencies lists only the first 128.'),
    workloadSummary: z.string().max(32).optional().describe('readyWorkloads/totalWorkloads, e.g. 2/3, for the Workloads column of kubectl get.'),
  })
  .describe('The state Backlot observed for the entity and the workloads it claims. Written by the operator.');
export type WorkloadEntityStatus = z.infer<typeof WorkloadEntityStatus>;

export const PartCount = z
  .object({
    total: z.int().min(0).meta(int32).describe('How many there are.'),
    ready: z.int().min(0).meta(int32).describe('How many of them are Ready.'),
  })
  .describe('A count of entities and how many of them are Ready.');
export type PartCount = z.infer<typeof PartCount>;
