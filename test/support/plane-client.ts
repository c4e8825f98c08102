/** Client configurations for a test's own control plane. */
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import type { ControlPlane } from '../../src/envtest/controlplane.ts';

/** The plane's admin kubeconfig, optionally pointed at another address (a proxy in front of the server). */
export function planeKubeConfig(plane: ControlPlane, server?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  if (server === undefined) return kc;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the plane kubeconfig has no cluster');
  const fresh = new KubeConfig();
  fresh.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  return fresh;
}

/**
 * A kubeconfig for the ServiceAccount `name` of `namespace` (which must exist), created here
 * with a Role of the same name holding `rules` and its RoleBinding, and a one-hour token from
 * the TokenRequest API: an identity the API server limits and may refuse, unlike the admin
 * kubeconfig's system:masters.
 */
export async function serviceAccountKubeConfig(admin: KubeConfig, init: { namespace: string; name: string; rules: V1PolicyRule[] }): Promise<KubeConfig> {
  const { namespace, name, rules } = init;
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const token = (await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { expirationSeconds: 3600 } } })).status?.token;
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [cluster], users: [{ name, token }], contexts: [{ name, cluster: cluster.name, user: name }], currentContext: name });
  return kc;
}
