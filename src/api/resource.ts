/** Resource: infrastructure a component needs at run time, such as a database, a queue or a bucket. */
import { z } from 'zod';
import { commonSpecFields, entityObject, refList, refString, word } from './common.ts';
import { WorkloadEntityStatus } from './status.ts';
import { Workloads } from './workloads.ts';

export const ResourceSpec = z
  .object({
    ...commonSpecFields,
    type: word('What kind of infrastructure this is, e.g. database, queue, s3-bucket, cache.'),
    owner: refString('The group that owns the resource: [group:][<namespace>/]<name>, e.g. team-payments.'),
    system: refString('The system the resource belongs to: [system:][<namespace>/]<name>, e.g. payments.').optional(),
    dependsOn: refList(
      'Components and resources this resource needs. Each entry names its kind: <kind>:[<namespace>/]<name>, e.g. resource:shop/orders-db. At most 64, unique.',
    ).optional(),
    dependencyOf: refList(
      'Components and resources that need this resource, written from this side: <kind>:[<namespace>/]<name>, e.g. component:checkout. At most 64, unique.',
    ).optional(),
    workloads: Workloads.optional(),
  })
  .describe("The desired state of the Resource, in Backstage's vocabulary.");
export type ResourceSpec = z.infer<typeof ResourceSpec>;

export const ResourceStatus = WorkloadEntityStatus;
export type ResourceStatus = z.infer<typeof ResourceStatus>;

export const Resource = entityObject('Resource', ResourceSpec, ResourceStatus);
export type Resource = z.infer<typeof Resource>;
