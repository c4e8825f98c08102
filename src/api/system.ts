/** System: a collection of components, resources and APIs that together offer a capability. */
import { z } from 'zod';
import { commonSpecFields, entityObject, refString } from './common.ts';
import { entityStatusFields, PartCount } from './status.ts';

export const SystemSpec = z
  .object({
    ...commonSpecFields,
    owner: refString('The group that owns the system: [group:][<namespace>/]<name>, e.g. team-storefront.'),
    domain: refString('The domain the system belongs to: [domain:][<namespace>/]<name>, e.g. commerce.').optional(),
  })
  .describe("The desired state of the System, in Backstage's vocabulary.");
export type SystemSpec = z.infer<typeof SystemSpec>;

export const SystemStatus = z
  .object({
    ...entityStatusFields,
    components: PartCount.optional().describe('The components that name this system, and how many of them are Ready.'),
    resources: PartCount.optional().describe('The resources that name this system, and how many of them are Ready.'),
    apis: PartCount.optional().describe('The APIs that name this system, and how many of them are Ready.'),
  })
  .describe('The state Backlot observed for the system and its parts. Written by the operator.');
export type SystemStatus = z.infer<typeof SystemStatus>;

export const System = entityObject('System', SystemSpec, SystemStatus);
export type System = z.infer<typeof System>;
