/**
 * What the cluster-reading commands share: the kubeconfig as kubectl finds it (the loader of
 * k8s/kubeconfig.ts, which `backlot run` uses too), the context and namespace flags, one paged
 * LIST per resource into the same Stores and indexes the operator's informers fill, and
 * errors that say what to do.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../api/common.ts';
import { WORKLOAD_KINDS, WORKLOAD_RESOURCES, type WorkloadKind } from '../api/workloads.ts';
import { narrowError } from '../k8s/errors.ts';
import { KubeconfigError, kubeconfigFiles, loadKubeConfig } from '../k8s/kubeconfig.ts';
import type { KubeObject, ObjectList } from '../k8s/object.ts';
import { collectionPath, objectPath, resourceName, NAMESPACES, type ResourceRef } from '../k8s/resource.ts';
import { RestClient } from '../k8s/rest.ts';
import { withTypeMeta, WORKLOAD_TRANSFORMS } from '../reconcilers/informers.ts';
import { entityIndexers, jobIndexers, sliceIndexers } from '../reconcilers/indexes.ts';
import { EntityParser } from '../reconcilers/entities.ts';
import { World } from '../reconcilers/world.ts';
import { ENTITY_KINDS, entityResource, type EntityKind, type EntityObject } from '../api/kinds.ts';
import { Store } from '../runtime/store.ts';
import { dropManagedFields, type Transform } from '../runtime/transform.ts';
import type { FlagSpec, ParsedFlags } from './flags.ts';

/** The flags every cluster-reading command takes, as kubectl spells them. */
export const CLUSTER_FLAGS: readonly FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', value: 'PATH', help: 'the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' },
  { name: 'context', type: 'string', value: 'NAME', help: 'the kubeconfig context to use (default: the current context)' },
  { name: 'namespace', short: 'n', type: 'string', value: 'NS', help: "the namespace to read (default: the context's namespace, else default)" },
  { name: 'all-namespaces', short: 'A', type: 'boolean', help: 'read every namespace' },
];

/** The cluster flags' section of a command's --help. */
export const CLUSTER_FLAGS_HELP = { heading: 'Cluster flags', flags: CLUSTER_FLAGS } as const;

/** A failure the user can act on; the message says how. */
export class ClusterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterError';
  }
}

export interface Connection {
  client: RestClient;
  server: string;
  context: string;
  /** The namespace to read; undefined for all namespaces. */
  namespace: string | undefined;
}

/** The client, context and namespace the flags choose. */
export function connect(flags: ParsedFlags, env: NodeJS.ProcessEnv): Connection {
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(kubeconfigFiles(flags.strings.get('kubeconfig'), env));
  } catch (err) {
    if (err instanceof KubeconfigError) throw new ClusterError(err.message, { cause: err });
    throw err;
  }
  const names = kc.getContexts().map((c) => c.name);
  const context = flags.strings.get('context') ?? kc.getCurrentContext();
  const known = `(the kubeconfig has: ${names.join(', ') || 'no contexts'})`;
  if (!context) throw new ClusterError(`the kubeconfig has no current context: pass --context NAME ${known}`);
  const contextObject = kc.getContextObject(context);
  if (!contextObject) throw new ClusterError(`context "${context}" is not in the kubeconfig ${known}: pass --context with one of those`);
  kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ClusterError(`context "${context}" names the cluster "${contextObject.cluster}", which the kubeconfig does not define`);
  const namespace = flags.booleans.get('all-namespaces') ? undefined : (flags.strings.get('namespace') ?? (contextObject.namespace || 'default'));
  return { client: new RestClient(kc), server: cluster.server, context, namespace };
}

interface Request {
  resource: ResourceRef;
  namespace: string | undefined;
  verb: 'list' | 'get';
}

/** A failed request, explained in terms of what the user can do about it. */
export function explainError(err: unknown, conn: Pick<Connection, 'server' | 'context'>, req: Request): ClusterError {
  const n = narrowError(err);
  const name = resourceName(req.resource);
  const scope = !req.resource.namespaced ? '' : req.namespace === undefined ? ' in all namespaces' : ` in namespace "${req.namespace}"`;
  const canI = `kubectl auth can-i ${req.verb} ${name}${!req.resource.namespaced ? '' : req.namespace === undefined ? ' --all-namespaces' : ` -n ${req.namespace}`}`;
  if (n.status === undefined) {
    return new ClusterError(
      `cannot reach the Kubernetes API server at ${conn.server} (context "${conn.context}"): ${n.message}. Check that the cluster is up and reachable from here, or choose another one with --context or --kubeconfig`,
      { cause: err },
    );
  }
  if (n.status === 404 && req.resource.group === API_GROUP) {
    return new ClusterError(
      `the Backlot CRDs are not installed on the cluster at ${conn.server} (context "${conn.context}"): it does not serve ${name}. Install them with \`backlot crds | kubectl apply -f -\``,
      { cause: err },
    );
  }
  if (n.status === 403)
    return new ClusterError(`no permission to ${req.verb} ${name}${scope}: ${n.message}. Check what you may do with \`${canI}\``, { cause: err });
  if (n.status === 401) {
    return new ClusterError(
      `the API server at ${conn.server} did not accept the credentials of context "${conn.context}" (401 Unauthorized): log in again, or choose another context with --context`,
      {
        cause: err,
      },
    );
  }
  return new ClusterError(`${req.verb} ${name}${scope} failed: ${n.status}${n.reason ? ` ${n.reason}` : ''}: ${n.message}`, { cause: err });
}

const PAGE_SIZE = 500;

/** Every object of a resource, in pages of 500. */
export async function listAll(
  conn: Connection,
  resource: ResourceRef,
  options: { namespace?: string | undefined; signal?: AbortSignal } = {},
): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let token: string | undefined;
  try {
    do {
      const page: ObjectList = await conn.client.request<ObjectList>({
        path: collectionPath(resource, resource.namespaced ? options.namespace : undefined),
        query: { limit: PAGE_SIZE, continue: token },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      items.push(...page.items);
      token = page.metadata?.continue || undefined;
    } while (token);
  } catch (err) {
    throw explainError(err, conn, { resource, namespace: options.namespace, verb: 'list' });
  }
  return items;
}

/** What a command needs read besides the entities. */
export interface WorldNeeds {
  /** The five workload kinds (orphans, owners). */
  workloads?: boolean;
  /** The Namespace objects, for their owner label (orphans). */
  namespaces?: boolean;
}

export interface LoadedWorld {
  world: World;
  /** Things that could not be read but do not stop the command. */
  warnings: string[];
}

/** A World over plain objects, through the Stores and indexes the operator's informers use. */
export function buildWorld(objects: {
  entities: Partial<Record<EntityKind, KubeObject[]>>;
  workloads?: Partial<Record<WorkloadKind, KubeObject[]>>;
  namespaces?: KubeObject[];
}): World {
  const parser = new EntityParser();
  const entities = Object.fromEntries(ENTITY_KINDS.map((k) => [k, new Store<EntityObject>(entityIndexers(k, parser))])) as Record<
    EntityKind,
    Store<EntityObject>
  >;
  const workloads = Object.fromEntries(WORKLOAD_KINDS.map((k) => [k, new Store<KubeObject>()])) as Record<WorkloadKind, Store<KubeObject>>;
  const namespaces = new Store<KubeObject>();
  for (const kind of ENTITY_KINDS) {
    const transform = withTypeMeta(API_VERSION, kind, dropManagedFields as Transform<EntityObject>);
    for (const obj of objects.entities[kind] ?? []) entities[kind].upsert(transform(obj));
  }
  for (const kind of WORKLOAD_KINDS) {
    const transform = withTypeMeta(WORKLOAD_RESOURCES[kind].apiVersion, kind, WORKLOAD_TRANSFORMS[kind]);
    for (const obj of objects.workloads?.[kind] ?? []) workloads[kind].upsert(transform(obj));
  }
  for (const ns of objects.namespaces ?? []) namespaces.upsert(ns);
  return new World(
    { entities, workloads, jobs: new Store<KubeObject>(jobIndexers()), endpointSlices: new Store<KubeObject>(sliceIndexers()), namespaces },
    { parser },
  );
}

async function readNamespaces(conn: Connection, signal: AbortSignal | undefined, warnings: string[]): Promise<KubeObject[]> {
  try {
    if (conn.namespace === undefined) return await listAll(conn, NAMESPACES, signal ? { signal } : {});
    return [await conn.client.request<KubeObject>({ path: objectPath(NAMESPACES, conn.namespace), ...(signal ? { signal } : {}) })];
  } catch (err) {
    const cause = err instanceof ClusterError ? err.cause : err;
    const status = narrowError(cause).status;
    if (status === 404) return [];
    if (status === 403) {
      warnings.push(`cannot read namespaces (403 Forbidden): the namespace owner of orphans is not shown`);
      return [];
    }
    throw err instanceof ClusterError ? err : explainError(err, conn, { resource: NAMESPACES, namespace: undefined, verb: 'get' });
  }
}

/**
 * Reads the catalog (and what `needs` asks for) of the connection's namespace, or of every
 * namespace, into a World. The requests run together; when several fail, the error of the
 * first resource in a fixed order is the one reported, so the same failure reads the same.
 */
export async function loadWorld(conn: Connection, needs: WorldNeeds, signal?: AbortSignal): Promise<LoadedWorld> {
  const warnings: string[] = [];
  const scope = { namespace: conn.namespace, ...(signal ? { signal } : {}) };
  const entityLists = ENTITY_KINDS.map((kind) => listAll(conn, entityResource(kind), scope));
  const workloadLists = needs.workloads ? WORKLOAD_KINDS.map((kind) => listAll(conn, WORKLOAD_RESOURCES[kind], scope)) : [];
  const namespaceList = needs.namespaces ? readNamespaces(conn, signal, warnings) : Promise.resolve([]);
  const settled = await Promise.allSettled([...entityLists, ...workloadLists, namespaceList]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const values = settled.map((s) => (s as PromiseFulfilledResult<KubeObject[]>).value);
  const entities = Object.fromEntries(ENTITY_KINDS.map((kind, i) => [kind, values[i]!])) as Record<EntityKind, KubeObject[]>;
  const workloads = needs.workloads
    ? (Object.fromEntries(WORKLOAD_KINDS.map((kind, i) => [kind, values[ENTITY_KINDS.length + i]!])) as Record<WorkloadKind, KubeObject[]>)
    : {};
  return { world: buildWorld({ entities, workloads, namespaces: values.at(-1)! }), warnings };
}

/** Every entity of the World, of every kind. */
export function allEntities(world: World): EntityObject[] {
  return ENTITY_KINDS.flatMap((kind) => world.caches.entities[kind].list());
}

/** Connects as the flags say and reads the World, printing what could not be read to stderr. */
export async function readCluster(
  flags: ParsedFlags,
  io: { env: NodeJS.ProcessEnv; stderr: NodeJS.WritableStream; signal: AbortSignal },
  needs: WorldNeeds,
): Promise<{ conn: Connection; world: World }> {
  const conn = connect(flags, io.env);
  const { world, warnings } = await loadWorld(conn, needs, io.signal);
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
  return { conn, world };
}

/** Whether the connection read a namespace: everything with -A, else only its own. */
export function namespaceRead(conn: Pick<Connection, 'namespace'>): (namespace: string) => boolean {
  return (namespace) => conn.namespace === undefined || conn.namespace === namespace;
}

/** `in namespace "shop"` or `in any namespace`, for messages about an empty result. */
export function scopeText(conn: Pick<Connection, 'namespace'>): string {
  return conn.namespace === undefined ? 'in any namespace' : `in namespace "${conn.namespace}"`;
}
