/**
 * The shared control plane is a real kube-apiserver on a real etcd: objects round-trip,
 * the status subresource is writable (tests stand in for the missing controllers), the
 * matching kubectl talks to it, and service-account tokens are minted and accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppsV1Api, AuthenticationV1Api, CoreV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { kubeConfig, kubectl, testNamespace } from '../support/cluster.ts';

describe('the shared control plane', () => {
  let ns: { name: string; remove: () => Promise<void> };
  const kc = kubeConfig();
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);

  beforeAll(async () => {
    ns = await testNamespace('cp');
  });
  afterAll(async () => {
    await ns.remove();
  });

  it('stores a Deployment and takes a status written through the status subresource', async () => {
    const body: V1Deployment = {
      metadata: { name: 'checkout', labels: { 'app.kubernetes.io/name': 'checkout' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'checkout' } },
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': 'checkout' } },
          spec: { containers: [{ name: 'app', image: 'registry.example/checkout:1.4.2' }] },
        },
      },
    };
    const created = await apps.createNamespacedDeployment({ namespace: ns.name, body });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.generation).toBe(1);

    const withStatus: V1Deployment = {
      ...created,
      status: { observedGeneration: 1, replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 3 },
    };
    await apps.replaceNamespacedDeploymentStatus({ name: 'checkout', namespace: ns.name, body: withStatus });

    const read = await apps.readNamespacedDeployment({ name: 'checkout', namespace: ns.name });
    expect(read.spec?.replicas).toBe(3);
    expect(read.spec?.template.spec?.containers[0]?.image).toBe('registry.example/checkout:1.4.2');
    expect(read.status?.readyReplicas).toBe(2);
    expect(read.status?.observedGeneration).toBe(1);
    // A status write does not bump the generation: only spec changes do.
    expect(read.metadata?.generation).toBe(1);
  });

  it('answers the kubectl built from the same release', async () => {
    const version = await kubectl(['version', '-o', 'json']);
    expect(version.code).toBe(0);
    const parsed = JSON.parse(version.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    expect(parsed.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+/);
    expect(parsed.clientVersion.gitVersion).toBe(parsed.serverVersion.gitVersion);

    const namespaces = await kubectl(['get', 'ns', '-o', 'name']);
    expect(namespaces.code).toBe(0);
    expect(namespaces.stdout.split('\n')).toEqual(expect.arrayContaining(['namespace/default', 'namespace/kube-system', `namespace/${ns.name}`]));
  });

  it('mints a service-account token that the API server authenticates', async () => {
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'robot' } } });
    const request = await core.createNamespacedServiceAccountToken({
      name: 'robot',
      namespace: ns.name,
      body: { spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 600 } },
    });
    const token = request.status?.token;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    // A client holding only the token asks the API server who it is.
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const robot = new KubeConfig();
    robot.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'robot', token }],
      contexts: [{ name: 'robot', cluster: cluster.name, user: 'robot' }],
      currentContext: 'robot',
    });
    const review = await robot.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns.name}:robot`);

    // The same token, tampered with, is refused.
    const forged = new KubeConfig();
    forged.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'forged', token: `${token}x` }],
      contexts: [{ name: 'forged', cluster: cluster.name, user: 'forged' }],
      currentContext: 'forged',
    });
    await expect(forged.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} })).rejects.toMatchObject({ code: 401 });
  });
});
