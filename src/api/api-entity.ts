/** API: an interface that components provide or consume. */
import { z } from 'zod';
import { commonSpecFields, entityObject, refString, word } from './common.ts';
import { EntityStatus } from './status.ts';

/** Room for a sizeable OpenAPI document while staying well under etcd's object size limit. */
export const DEFINITION_MAX_LENGTH = 1024 * 1024;

export const ApiSpec = z
  .object({
    ...commonSpecFields,
    type: word("The interface's technology, e.g. openapi, asyncapi, graphql, grpc."),
    lifecycle: word('Where the API is in its life, e.g. experimental, production, deprecated.'),
    owner: refString('The group that owns the API: [group:][<namespace>/]<name>, e.g. team-payments.'),
    system: refString('The system the API belongs to: [system:][<namespace>/]<name>, e.g. payments.').optional(),
    definition: z
      .string()
      .max(DEFINITION_MAX_LENGTH)
      .optional()
      .describe('The definition of the interface in the format its type names, e.g. an OpenAPI document as a YAML string. At most 1 MiB.'),
  })
  .describe("The desired state of the API, in Backstage's vocabulary.");
export type ApiSpec = z.infer<typeof ApiSpec>;

export const ApiStatus = EntityStatus;
export type ApiStatus = z.infer<typeof ApiStatus>;

export const Api = entityObject('API', ApiSpec, ApiStatus);
export type Api = z.infer<typeof Api>;
