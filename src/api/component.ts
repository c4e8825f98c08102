/** Component: a piece of software, such as a service, website, job or library. */
import { z } from 'zod';
import { commonSpecFields, entityObject, refList, refString, word } from './common.ts';
import { WorkloadEntityStatus } from './status.ts';
import { Workloads } from './workloads.ts';

export const ComponentSpec = z
  .object({
    ...commonSpecFields,
    type: word('What kind of software this is, e.g. service, website, library, job.'),
    lifecycle: word('Where the component is in its life, e.g. experimental, production, deprecated.'),
    owner: refString(
      "The group that owns the component: a reference [group:][<namespace>/]<name>, the kind defaulting to group and the namespace to the component's, e.g. team-payments or group:shop/team-payments.",
    ),
    system: refString('The system the component belongs to: [system:][<namespace>/]<name>, e.g. webshop.').optional(),
    subcomponentOf: refString('The component this one is part of: [component:][<namespace>/]<name>.').optional(),
    dependsOn: refList(
      'Components and resources this component needs at run time. Each entry names its kind: <kind>:[<namespace>/]<name>, e.g. resource:orders-db or component:shop/payments. At most 64, unique.',
    ).optional(),
    dependencyOf: refList(
      'Components and resources that need this component, written from this side: <kind>:[<namespace>/]<name>. At most 64, unique.',
    ).optional(),
    providesApis: refList('APIs this component provides: [api:][<namespace>/]<name>, e.g. checkout-api. At most 64, unique.').optional(),
    consumesApis: refList('APIs this component consumes: [api:][<namespace>/]<name>, e.g. api:platform/auth-api. At most 64, unique.').optional(),
    workloads: Workloads.optional(),
  })
  .describe("The desired state of the Component, in Backstage's vocabulary.");
export type ComponentSpec = z.infer<typeof ComponentSpec>;

export const ComponentStatus = WorkloadEntityStatus;
export type ComponentStatus = z.infer<typeof ComponentStatus>;

export const Component = entityObject('Component', ComponentSpec, ComponentStatus);
export type Component = z.infer<typeof Component>;
