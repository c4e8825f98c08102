/**
 * The registry of kinds: names, schemas, printer columns, and the table of reference fields.
 *
 * The reference table is the one statement of which fields hold references, their default
 * kind and the kinds they allow: crd.ts turns it into CEL rules, src/catalog/ref.ts parses
 * with it. A unit test checks that every field it names exists in the kind's spec schema.
 */
import type { z } from 'zod';
import type { KubeObject } from '../k8s/object.ts';
import type { ResourceRef } from '../k8s/resource.ts';
import { ApiSpec, ApiStatus } from './api-entity.ts';
import { API_GROUP, API_VERSION_NAME } from './common.ts';
import { ComponentSpec, ComponentStatus } from './component.ts';
import { DomainSpec, DomainStatus } from './domain.ts';
import { GroupSpec, GroupStatus } from './group.ts';
import type { EntityRefKind, RefField } from './refs.ts';
import { ResourceSpec, ResourceStatus } from './resource.ts';
import { SystemSpec, SystemStatus } from './system.ts';

export const CATEGORIES = ['backlot', 'catalog'] as const;

/** A column of `kubectl get`; priority 1 columns show with `-o wide` only. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindInfo {
  /** The Kubernetes kind, e.g. Component. */
  kind: 'Component' | 'System' | 'Resource' | 'API' | 'Group' | 'Domain';
  /** The kind as references write it, lower case. */
  refKind: EntityRefKind;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  /** What the kind is, for the CRD's description and `kubectl explain`. */
  description: string;
  spec: z.ZodObject;
  status: z.ZodObject;
  printerColumns: readonly PrinterColumn[];
  refs: readonly RefField[];
}

const column = (name: string, jsonPath: string, description: string, more: Partial<PrinterColumn> = {}): PrinterColumn => ({
  name,
  type: 'string',
  jsonPath,
  description,
  ...more,
});

const columns = {
  type: column('Type', '.spec.type', 'What kind of entity this is.'),
  owner: column('Owner', '.spec.owner', 'The owning group.'),
  system: column('System', '.spec.system', 'The system the entity belongs to.'),
  lifecycle: column('Lifecycle', '.spec.lifecycle', 'The lifecycle stage.'),
  workloads: column('Workloads', '.status.workloadSummary', 'Ready/total claimed workloads.'),
  ready: column('Ready', '.status.conditions[?(@.type=="Ready")].status', 'The status of the Ready condition.'),
  age: column('Age', '.metadata.creationTimestamp', 'Time since creation.', { type: 'date' }),
  wide: (c: PrinterColumn): PrinterColumn => ({ ...c, priority: 1 }),
};

const ref = (field: string, defaultKind: RefField['defaultKind'], allowedKinds: RefField['allowedKinds'], example: string): RefField => ({
  field,
  list: false,
  allowedKinds,
  example,
  ...(defaultKind ? { defaultKind } : {}),
});
const refs = (field: string, defaultKind: RefField['defaultKind'], allowedKinds: RefField['allowedKinds'], example: string): RefField => ({
  ...ref(field, defaultKind, allowedKinds, example),
  list: true,
});

const ownerRef = ref('owner', 'group', ['group'], 'group:shop/team-payments');
const systemRef = ref('system', 'system', ['system'], 'system:shop/webshop');
const dependsOnRefs = refs('dependsOn', undefined, ['component', 'resource'], 'resource:shop/orders-db');
const dependencyOfRefs = refs('dependencyOf', undefined, ['component', 'resource'], 'component:shop/checkout');

export const KINDS: readonly KindInfo[] = [
  {
    kind: 'Component',
    refKind: 'component',
    plural: 'components',
    singular: 'component',
    shortNames: ['comp'],
    description:
      'A Component is a piece of software: a service, website, job or library. It claims the workloads that run it and reports their health and that of its dependencies.',
    spec: ComponentSpec,
    status: ComponentStatus,
    printerColumns: [columns.type, columns.owner, columns.system, columns.lifecycle, columns.workloads, columns.ready, columns.age],
    refs: [
      ownerRef,
      systemRef,
      ref('subcomponentOf', 'component', ['component'], 'component:shop/checkout'),
      dependsOnRefs,
      dependencyOfRefs,
      refs('providesApis', 'api', ['api'], 'api:shop/checkout-api'),
      refs('consumesApis', 'api', ['api'], 'api:platform/auth-api'),
    ],
  },
  {
    kind: 'System',
    refKind: 'system',
    plural: 'systems',
    singular: 'system',
    shortNames: ['sys'],
    description: 'A System is a collection of components, resources and APIs that together offer a capability.',
    spec: SystemSpec,
    status: SystemStatus,
    printerColumns: [columns.owner, columns.wide(column('Domain', '.spec.domain', 'The domain the system belongs to.')), columns.ready, columns.age],
    refs: [ownerRef, ref('domain', 'domain', ['domain'], 'domain:shop/commerce')],
  },
  {
    kind: 'Resource',
    refKind: 'resource',
    plural: 'resources',
    singular: 'resource',
    shortNames: ['res'],
    description: 'A Resource is infrastructure a component needs at run time: a database, a queue, a bucket. It may claim the workloads that run it.',
    spec: ResourceSpec,
    status: ResourceStatus,
    printerColumns: [columns.wide(columns.type), columns.owner, columns.wide(columns.system), columns.wide(columns.workloads), columns.ready, columns.age],
    refs: [ownerRef, systemRef, dependsOnRefs, dependencyOfRefs],
  },
  {
    kind: 'API',
    refKind: 'api',
    plural: 'apis',
    singular: 'api',
    shortNames: [],
    description: 'An API is an interface that components provide or consume.',
    spec: ApiSpec,
    status: ApiStatus,
    printerColumns: [columns.wide(columns.type), columns.owner, columns.wide(columns.system), columns.wide(columns.lifecycle), columns.ready, columns.age],
    refs: [ownerRef, systemRef],
  },
  {
    kind: 'Group',
    refKind: 'group',
    plural: 'groups',
    singular: 'group',
    shortNames: ['team'],
    description: 'A Group is an organisational unit, such as a team, that owns entities.',
    spec: GroupSpec,
    status: GroupStatus,
    printerColumns: [columns.wide(columns.type), columns.wide(column('Parent', '.spec.parent', 'The parent group.')), columns.ready, columns.age],
    refs: [
      ref('parent', 'group', ['group'], 'group:platform/engineering'),
      refs('children', 'group', ['group'], 'group:shop/team-payments'),
      refs('members', 'user', ['user'], 'user:default/jane.doe'),
    ],
  },
  {
    kind: 'Domain',
    refKind: 'domain',
    plural: 'domains',
    singular: 'domain',
    shortNames: ['dom'],
    description: 'A Domain is a business area that groups systems.',
    spec: DomainSpec,
    status: DomainStatus,
    printerColumns: [columns.owner, columns.wide(column('Parent', '.spec.subdomainOf', 'The domain this one is part of.')), columns.ready, columns.age],
    refs: [ownerRef, ref('subdomainOf', 'domain', ['domain'], 'domain:shop/commerce')],
  },
];

/** The registry entry of a kind, by its Kubernetes name (Component) or reference name (component). */
export function kindInfo(kind: string): KindInfo | undefined {
  const lower = kind.toLowerCase();
  return KINDS.find((k) => k.refKind === lower);
}

/** The reference rule of one spec field of a kind, if the field holds references. */
export function refField(kind: string, field: string): RefField | undefined {
  return kindInfo(kind)?.refs.find((r) => r.field === field);
}

/** A kind's Kubernetes name: Component, System, Resource, API, Group, Domain. */
export type EntityKind = KindInfo['kind'];

/** Every kind, in the registry's order. */
export const ENTITY_KINDS: readonly EntityKind[] = KINDS.map((k) => k.kind);

/**
 * The status of an entity of any kind: every field of the kinds' zod status types, each
 * optional, so that code over all kinds reads a field without first asking which kind wrote it.
 * Each kind's own status type is assignable to it. (Resource's status is Component's; API's,
 * Group's and Domain's are the common EntityStatus, which both of the others extend.)
 */
export type AnyEntityStatus = ComponentStatus & SystemStatus;

/**
 * An entity as read from the API server or a cache. The spec as it came (specs are read
 * through the kinds' reference rules, which check what they read); the status as Backlot
 * wrote it, which its CRD's schema checked on the way in.
 */
export interface EntityObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: AnyEntityStatus;
}

/** The resource that serves a kind: `components.catalog.backlot.dev`, and so on. */
export function entityResource(kind: EntityKind): ResourceRef {
  const info = KINDS.find((k) => k.kind === kind)!;
  return { group: API_GROUP, version: API_VERSION_NAME, resource: info.plural, namespaced: true };
}
