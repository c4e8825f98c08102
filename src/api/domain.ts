/** Domain: a business area that groups systems. */
import { z } from 'zod';
import { commonSpecFields, entityObject, refString } from './common.ts';
import { EntityStatus } from './status.ts';

export const DomainSpec = z
  .object({
    ...commonSpecFields,
    owner: refString('The group that owns the domain: [group:][<namespace>/]<name>, e.g. team-storefront.'),
    subdomainOf: refString('The domain this one is part of: [domain:][<namespace>/]<name>, e.g. commerce.').optional(),
  })
  .describe("The desired state of the Domain, in Backstage's vocabulary.");
export type DomainSpec = z.infer<typeof DomainSpec>;

export const DomainStatus = EntityStatus;
export type DomainStatus = z.infer<typeof DomainStatus>;

export const Domain = entityObject('Domain', DomainSpec, DomainStatus);
export type Domain = z.infer<typeof Domain>;
