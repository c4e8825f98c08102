/**
 * Condition types and reasons: the constants users match in `kubectl wait`, alert rules and
 * scripts, so they are part of the API. Reasons are CamelCase, stable, and few, which also
 * keeps metric label values bounded.
 */

export const ConditionType = {
  /**
   * The entity's own health. For a Component or Resource: its claimed workloads are ready
   * (an entity that claims none is Ready: nothing of it is failing). For a System: its
   * components, resources and APIs are ready; for a Domain: its systems are. For an API: at
   * least one component that provides it is Ready. For a Group: its references resolve.
   * A failing dependency never turns this False: that is
   * DependenciesReady's job, so one failure does not turn every dependent red.
   */
  Ready: 'Ready',
  /** Component, Resource: every claimed workload reports all of its replicas ready. */
  WorkloadsReady: 'WorkloadsReady',
  /** Component, Resource: every entity named in dependsOn exists and is Ready. */
  DependenciesReady: 'DependenciesReady',
  /** Every reference in the spec names an existing entity; the message lists those that do not. */
  RefsResolved: 'RefsResolved',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionReason = {
  // WorkloadsReady, and Ready for a Component or Resource.
  /** Every claimed workload is ready. */
  AllWorkloadsReady: 'AllWorkloadsReady',
  /** At least one claimed workload has fewer ready replicas than it wants; the message names them. */
  WorkloadsNotReady: 'WorkloadsNotReady',
  /** The selector matches no workload in the entity's namespace. */
  NoWorkloadsMatched: 'NoWorkloadsMatched',
  /**
   * A matched workload is also claimed by another entity. The oldest claimant (then the lowest
   * reference) holds the claim and has its ownership written onto the workload; the message
   * names the workloads and the other claimants.
   */
  ClaimConflict: 'ClaimConflict',
  /**
   * The entity claims nothing because its selector breaks the rules of spec.workloads.selector
   * (label keys and values, list limits, a positive requirement): the
   * backstage.io/kubernetes-label-selector annotation, which admission never checks, or a spec
   * selector stored before a rule existed. The message names which, and the rule.
   */
  InvalidSelector: 'InvalidSelector',

  // DependenciesReady.
  /** Every dependency exists and is Ready. */
  AllDependenciesReady: 'AllDependenciesReady',
  /** The entity declares no dependencies. */
  NoDependencies: 'NoDependencies',
  /** A dependency exists but is not Ready; the message names it. */
  DependencyNotReady: 'DependencyNotReady',
  /** A dependency names an entity that does not exist. */
  DependencyNotFound: 'DependencyNotFound',
  /** Following dependsOn leads back to this entity; the message shows the cycle. */
  DependencyCycle: 'DependencyCycle',

  // RefsResolved.
  /** Every reference names an existing entity. */
  AllRefsResolved: 'AllRefsResolved',
  /** The owner group does not exist (alerts route to the owner, so this one is singled out). */
  OwnerNotFound: 'OwnerNotFound',
  /** Some reference other than the owner names an entity that does not exist; the message lists them. */
  RefsNotFound: 'RefsNotFound',
  /**
   * A reference into another namespace that needs its consent (owner, system, domain,
   * subcomponentOf, subdomainOf, dependencyOf, providesApis, parent, children) names a namespace
   * that does not accept relations from this one (its Namespace's annotation
   * backlot.dev/accept-relations-from). The reference has no effect there; the message names
   * each such reference by namespace.
   */
  RelationNotAccepted: 'RelationNotAccepted',

  // Ready for a System (its components, resources and APIs) and a Domain (its systems).
  /** Every part is Ready. */
  AllPartsReady: 'AllPartsReady',
  /** Some part is not Ready; the message names them. */
  PartsNotReady: 'PartsNotReady',
  /** Nothing names this system or domain. */
  NoParts: 'NoParts',

  // Ready for an API: it is served when at least one component that provides it is Ready.
  /** At least one providing component is Ready. */
  ProviderReady: 'ProviderReady',
  /** Components provide the API, but none of them is Ready; the message names them. */
  NoProviderReady: 'NoProviderReady',
  /** No component names the API in providesApis (an API served from outside the cluster, for example). */
  NoProviders: 'NoProviders',

  // Ready for a Group: its health is that of its references.
  /** The entity's references resolve. */
  Resolved: 'Resolved',
  /** Some reference of the entity does not resolve; see RefsResolved. */
  Unresolved: 'Unresolved',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];
