/**
 * `spec.workloads`: which cluster objects a Component or Resource claims. The selector is a
 * metav1.LabelSelector, validated at admission the way the API server validates a
 * Deployment's: well-formed keys and values, `values` only where the operator takes them;
 * and, unlike a Deployment's, it must name something the claimed objects carry (a positive
 * requirement), because an entity's selector reaches every workload of its namespace.
 */
import { z } from 'zod';
import type { ResourceRef } from '../k8s/resource.ts';
import { celRules, SET_LIST } from './common.ts';

/** The workload kinds an entity can claim; the default claims all of them. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Service'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** The resource that serves each workload kind, and the apiVersion its objects carry. */
export const WORKLOAD_RESOURCES: Readonly<Record<WorkloadKind, Readonly<ResourceRef & { apiVersion: string }>>> = Object.freeze({
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true, apiVersion: 'apps/v1' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true, apiVersion: 'apps/v1' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true, apiVersion: 'apps/v1' },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true, apiVersion: 'batch/v1' },
  Service: { group: '', version: 'v1', resource: 'services', namespaced: true, apiVersion: 'v1' },
});

export const SELECTOR_LIMITS = { labelKey: 317, labelValue: 63, matchLabels: 32, matchExpressions: 16, values: 64 } as const;

/**
 * A qualified label key: an optional DNS-subdomain prefix and `/`, then a name of letters,
 * digits, `-_.`. Shared with the parser of the backstage.io/kubernetes-label-selector
 * annotation (catalog/selector.ts), so the annotation is held to what admission holds the field to.
 */
export const LABEL_KEY_PATTERN = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** A label value: empty, or letters and digits with `-_.` inside. */
export const LABEL_VALUE_PATTERN = '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$';

const labelKey = (description: string) => z.string().min(1).max(SELECTOR_LIMITS.labelKey).regex(new RegExp(LABEL_KEY_PATTERN)).describe(description);

export const LabelSelectorRequirement = z
  .object({
    key: labelKey('The label key the requirement applies to, e.g. app.kubernetes.io/name.'),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the key relates to the values: In, NotIn, Exists or DoesNotExist.'),
    values: z
      .array(z.string().max(SELECTOR_LIMITS.labelValue).regex(new RegExp(LABEL_VALUE_PATTERN)))
      .max(SELECTOR_LIMITS.values)
      .optional()
      .describe('The values for In and NotIn (at least one); empty for Exists and DoesNotExist.'),
  })
  .meta(
    celRules({
      rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
      message: 'values must list at least one value for In and NotIn, and be empty for Exists and DoesNotExist',
      fieldPath: '.values',
    }),
  )
  .describe('A label selector requirement: a key, an operator and, for In and NotIn, values.');

/**
 * Why a selector needs a positive requirement, in the words of the CRD's rule: a selector
 * made only of NotIn and DoesNotExist matches every object that lacks some label, which in
 * practice is every workload of the namespace, other teams' included.
 */
export const POSITIVE_REQUIREMENT =
  'must have a positive requirement (a matchLabels entry, or an In or Exists expression): one made only of NotIn or DoesNotExist would claim every workload of the namespace';
const POSITIVE_REQUIREMENT_MESSAGE = `spec.workloads.selector ${POSITIVE_REQUIREMENT}`;

/** The TypeScript twin of the CEL rule below: a matchLabels entry, or an In or Exists expression. */
export function hasPositiveRequirement(selector: {
  matchLabels?: Readonly<Record<string, string>>;
  matchExpressions?: readonly { operator: string }[];
}): boolean {
  return Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).some((e) => e.operator === 'In' || e.operator === 'Exists');
}

export const LabelSelector = z
  .object({
    matchLabels: z
      .record(z.string().max(SELECTOR_LIMITS.labelKey), z.string().max(SELECTOR_LIMITS.labelValue))
      .meta({
        maxProperties: SELECTOR_LIMITS.matchLabels,
        ...celRules(
          {
            rule: `self.all(k, k.matches('${LABEL_KEY_PATTERN}'))`,
            message: 'matchLabels keys must be label keys: [<dns-prefix>/]<name>, e.g. app.kubernetes.io/name',
          },
          {
            rule: `self.all(k, self[k].matches('${LABEL_VALUE_PATTERN}'))`,
            message: 'matchLabels values must be label values: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
          },
        ),
      })
      .optional()
      .describe('Labels an object must carry, each key with exactly this value, e.g. {app.kubernetes.io/name: checkout}.'),
    matchExpressions: z
      .array(LabelSelectorRequirement)
      .max(SELECTOR_LIMITS.matchExpressions)
      .optional()
      .describe('Requirements an object must meet, all of them.'),
  })
  .refine((selector) => hasPositiveRequirement(selector), { message: POSITIVE_REQUIREMENT_MESSAGE })
  .meta(
    celRules({
      rule: "(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && self.matchExpressions.exists(e, e.operator == 'In' || e.operator == 'Exists'))",
      message: POSITIVE_REQUIREMENT_MESSAGE,
    }),
  )
  .describe(
    'A Kubernetes label selector (matchLabels and matchExpressions, all of which must hold). It must have a positive requirement: a matchLabels entry, or an In or Exists expression; NotIn and DoesNotExist only narrow it.',
  );
export type LabelSelector = z.infer<typeof LabelSelector>;

export const Workloads = z
  .object({
    selector: LabelSelector.optional().describe(
      'The labels of the objects this entity claims. Without it, the entity claims the objects labelled backstage.io/kubernetes-id: <metadata.name>, or those matching the entity annotation backstage.io/kubernetes-label-selector.',
    ),
    kinds: z
      .array(z.enum(WORKLOAD_KINDS))
      .max(WORKLOAD_KINDS.length)
      .meta(SET_LIST)
      .default([...WORKLOAD_KINDS])
      .describe('The kinds of object claimed: Deployment, StatefulSet, DaemonSet, CronJob, Service. The default is all five.'),
  })
  .describe(
    'Which cluster objects the entity claims, in its own namespace only. Without this field the entity claims the objects labelled backstage.io/kubernetes-id: <metadata.name> (or matching the backstage.io/kubernetes-label-selector annotation).',
  );
export type Workloads = z.infer<typeof Workloads>;
