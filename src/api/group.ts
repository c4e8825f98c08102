/** Group: an organisational unit, such as a team, that owns entities. */
import { z } from 'zod';
import { commonSpecFields, entityObject, refList, refString, word } from './common.ts';
import { EntityStatus } from './status.ts';

export const GROUP_LIMITS = { children: 128, members: 512, displayName: 256, email: 254 } as const;

export const GroupProfile = z
  .object({
    displayName: z.string().max(GROUP_LIMITS.displayName).optional().describe('The name shown for the group, e.g. "Team Payments".'),
    email: z.email().max(GROUP_LIMITS.email).optional().describe('An email address that reaches the group, e.g. payments@example.com.'),
  })
  .describe('How the group presents itself.');
export type GroupProfile = z.infer<typeof GroupProfile>;

export const GroupSpec = z
  .object({
    ...commonSpecFields,
    type: word('What kind of unit this is, e.g. team, business-unit, product-area.'),
    profile: GroupProfile.optional(),
    parent: refString('The group this one belongs to: [group:][<namespace>/]<name>, e.g. engineering.').optional(),
    children: refList('The groups that belong to this one: [group:][<namespace>/]<name>. At most 128, unique.', GROUP_LIMITS.children).optional(),
    members: refList(
      'The people in the group, as Backstage user references [user:][<namespace>/]<name>. Stored and shown; Backlot has no User kind and does not resolve them. At most 512, unique.',
      GROUP_LIMITS.members,
    ).optional(),
  })
  .describe("The desired state of the Group, in Backstage's vocabulary.");
export type GroupSpec = z.infer<typeof GroupSpec>;

export const GroupStatus = EntityStatus;
export type GroupStatus = z.infer<typeof GroupStatus>;

export const Group = entityObject('Group', GroupSpec, GroupStatus);
export type Group = z.infer<typeof Group>;
