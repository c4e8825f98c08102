/**
 * A tenant of the shared control plane, as a team on a shared cluster is one: a ServiceAccount
 * in its own namespace that holds nothing but the shipped `backlot-catalog-editor` ClusterRole,
 * bound by a RoleBinding in that namespace, and acts with a real bearer token from the
 * TokenRequest API (the API server authenticates it and RBAC decides), never with the admin
 * certificate, which is system:masters.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { runKubectl, type KubectlResult } from '../../src/envtest/controlplane.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { kubeConfig, kubectl } from './cluster.ts';
import { DEPLOY_DIR } from './deploy.ts';
import { ENV_KUBECTL } from './env.ts';

/** deploy/'s ClusterRoles for people: backlot-catalog-editor and backlot-catalog-viewer. */
export const USER_ROLES_PATH = join(DEPLOY_DIR, 'rbac/user-cluster-roles.yaml');
export const EDITOR_ROLE = 'backlot-catalog-editor';

/** deploy/'s ClusterRole that grants get on /metrics. */
export const METRICS_READER_ROLE_PATH = join(DEPLOY_DIR, 'rbac/metrics-reader-role.yaml');
export const METRICS_READER_ROLE = 'backlot-metrics-reader';
export const VIEWER_ROLE = 'backlot-catalog-viewer';

/**
 * Applies the ClusterRoles for people, and backlot-metrics-reader, as deploy/ ships them.
 * Cluster-scoped and shared by every file of a run, so it is idempotent (server-side apply,
 * one field manager) and never deleted.
 */
export async function installUserRoles(): Promise<void> {
  const r = await kubectl([
    'apply',
    '--server-side',
    '--field-manager=backlot-tests',
    '--force-conflicts',
    '-f',
    USER_ROLES_PATH,
    '-f',
    METRICS_READER_ROLE_PATH,
  ]);
  if (r.code !== 0) throw new Error(`kubectl apply -f ${USER_ROLES_PATH} -f ${METRICS_READER_ROLE_PATH} (exit ${r.code}): ${r.stderr}`);
}

/** A token for a ServiceAccount from the TokenRequest API, as the kubelet gets one for a pod. */
export async function mintToken(admin: RestClient, namespace: string, serviceAccount: string, expirationSeconds = 3600): Promise<string> {
  const review = await admin.request<{ status: { token: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
  });
  return review.status.token;
}

export interface Tenant {
  /** The user name the API server knows the tenant by, system:serviceaccount:<ns>:<name>. */
  user: string;
  namespace: string;
  /** A kubeconfig file holding the token only, its namespace the tenant's. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** A REST client that authenticates with the token. */
  client: RestClient;
  /** kubectl with the tenant's kubeconfig. */
  kubectl(args: string[], options?: { input?: string }): Promise<KubectlResult>;
}

/**
 * Makes a tenant who may edit the catalog in `namespace` (which must exist) and nothing else:
 * the ServiceAccount, the RoleBinding to backlot-catalog-editor (installUserRoles first), a
 * token, and a kubeconfig for it written into `dir`.
 */
export async function catalogEditor(options: { namespace: string; name: string; dir: string }): Promise<Tenant> {
  const { namespace, name } = options;
  const adminConfig = kubeConfig();
  const admin = new RestClient(adminConfig);
  await admin.request({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts`,
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
  });
  await admin.request({
    method: 'POST',
    path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${name}-catalog-editor` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: EDITOR_ROLE },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const token = await mintToken(admin, namespace, name);
  const cluster = adminConfig.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: cluster.server,
        ...(cluster.caData ? { caData: cluster.caData } : {}),
        ...(cluster.caFile ? { caFile: cluster.caFile } : {}),
      },
    ],
    users: [{ name, token }],
    contexts: [{ name, cluster: cluster.name, user: name, namespace }],
    currentContext: name,
  });
  const kubeconfigPath = join(options.dir, `${name}.kubeconfig`);
  await writeFile(kubeconfigPath, config.exportConfig(), { mode: 0o600 });
  const binary = process.env[ENV_KUBECTL];
  if (!binary) throw new Error(`${ENV_KUBECTL} is not set: integration tests run under the jest global setup`);
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    namespace,
    kubeconfigPath,
    kubeConfig: config,
    client: new RestClient(config),
    kubectl: (args, more = {}) => runKubectl({ binary, kubeconfig: kubeconfigPath, args, ...more }),
  };
}

export interface BoundServiceAccount {
  /** system:serviceaccount:<namespace>:<name> */
  user: string;
  /** A token from the TokenRequest API. */
  token: string;
  /** Deletes the ClusterRoleBindings (cluster-scoped: the namespace's deletion leaves them). */
  remove(): Promise<void>;
}

/**
 * A ServiceAccount in `namespace` (which must exist) holding `clusterRoles` cluster-wide
 * (ClusterRoleBindings) and `namespaceRoles` in its namespace only (RoleBindings), with a
 * token, as a Prometheus or a Backstage backend would run with one.
 */
export async function boundServiceAccount(
  admin: RestClient,
  options: { namespace: string; name: string; clusterRoles?: string[]; namespaceRoles?: string[] },
): Promise<BoundServiceAccount> {
  const { namespace, name } = options;
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  const roleRef = (role: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role });
  await admin.request({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts`,
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
  });
  const clusterBindings: string[] = [];
  for (const role of options.clusterRoles ?? []) {
    const binding = `${namespace}-${name}-${role}`;
    await admin.request({
      method: 'POST',
      path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: binding }, roleRef: roleRef(role), subjects },
    });
    clusterBindings.push(binding);
  }
  for (const role of options.namespaceRoles ?? []) {
    await admin.request({
      method: 'POST',
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
      body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `${name}-${role}` }, roleRef: roleRef(role), subjects },
    });
  }
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    token: await mintToken(admin, namespace, name),
    remove: async () => {
      for (const binding of clusterBindings)
        await admin.request({ method: 'DELETE', path: `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding}` });
    },
  };
}
