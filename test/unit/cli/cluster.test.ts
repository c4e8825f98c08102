import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { ClusterError, CLUSTER_FLAGS, connect, explainError } from '../../../src/cli/cluster.ts';
import { parseFlags } from '../../../src/cli/flags.ts';
import { KubeApiError } from '../../../src/k8s/errors.ts';
import { NAMESPACES } from '../../../src/k8s/resource.ts';
import { WORKLOAD_RESOURCES } from '../../../src/api/workloads.ts';
import { entityResource } from '../../../src/api/kinds.ts';

function kubeconfig(o: { clusters: Record<string, string>; contexts: Record<string, { cluster: string; namespace?: string }>; current?: string }): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: Object.entries(o.clusters).map(([name, server]) => ({ name, cluster: { server } })),
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: Object.entries(o.contexts).map(([name, c]) => ({
      name,
      context: { cluster: c.cluster, user: 'u', ...(c.namespace ? { namespace: c.namespace } : {}) },
    })),
    ...(o.current ? { 'current-context': o.current } : {}),
  });
}

describe('kubeconfig and context', () => {
  let dir: string;
  let first: string;
  let second: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backlot-cli-'));
    first = join(dir, 'first');
    second = join(dir, 'second');
    await writeFile(
      first,
      kubeconfig({ clusters: { dev: 'https://dev.example:6443' }, contexts: { dev: { cluster: 'dev', namespace: 'shop' } }, current: 'dev' }),
    );
    await writeFile(
      second,
      kubeconfig({
        clusters: { dev: 'https://shadowed.example:6443', prod: 'https://prod.example:6443' },
        contexts: { prod: { cluster: 'prod' } },
        current: 'prod',
      }),
    );
    await mkdir(join(dir, '.kube'));
    await writeFile(
      join(dir, '.kube', 'config'),
      kubeconfig({ clusters: { home: 'https://home.example:6443' }, contexts: { home: { cluster: 'home' } }, current: 'home' }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (argv: string[], env: NodeJS.ProcessEnv) => connect(parseFlags(argv, CLUSTER_FLAGS, { command: 'test' }), env);

  it.each([
    [
      'the current context of KUBECONFIG and its namespace',
      () => [],
      () => ({ KUBECONFIG: first }),
      { server: 'https://dev.example:6443', context: 'dev', namespace: 'shop' },
    ],
    [
      "-n over the context's namespace",
      () => ['-n', 'payments'],
      () => ({ KUBECONFIG: first }),
      { server: 'https://dev.example:6443', context: 'dev', namespace: 'payments' },
    ],
    [
      '-A for every namespace',
      () => ['-A', '-n', 'x'],
      () => ({ KUBECONFIG: first }),
      { server: 'https://dev.example:6443', context: 'dev', namespace: undefined },
    ],
    [
      '--context, from the second file of KUBECONFIG',
      () => ['--context', 'prod'],
      () => ({ KUBECONFIG: [first, second].join(delimiter) }),
      { server: 'https://prod.example:6443', context: 'prod', namespace: 'default' },
    ],
    [
      'the first file of KUBECONFIG winning the merge',
      () => [],
      () => ({ KUBECONFIG: [first, second].join(delimiter) }),
      { server: 'https://dev.example:6443', context: 'dev', namespace: 'shop' },
    ],
    [
      '--kubeconfig over KUBECONFIG',
      () => ['--kubeconfig', second],
      () => ({ KUBECONFIG: first }),
      { server: 'https://prod.example:6443', context: 'prod', namespace: 'default' },
    ],
    ['~/.kube/config without KUBECONFIG', () => [], () => ({ HOME: dir }), { server: 'https://home.example:6443', context: 'home', namespace: 'default' }],
  ])('uses %s', (_title, argv, env, expected) => {
    const conn = run(argv(), env());
    expect({ server: conn.server, context: conn.context, namespace: conn.namespace }).toEqual(expected);
  });

  it.each([
    [
      'an unknown context',
      ['--context', 'staging'],
      () => ({ KUBECONFIG: first }),
      'context "staging" is not in the kubeconfig (the kubeconfig has: dev): pass --context with one of those',
    ],
    [
      'a missing --kubeconfig',
      ['--kubeconfig', '/nonexistent/config'],
      () => ({}),
      'no kubeconfig found at /nonexistent/config (from --kubeconfig): pass --kubeconfig PATH or set KUBECONFIG',
    ],
    ['no kubeconfig anywhere', [], () => ({ HOME: '/nonexistent' }), 'no kubeconfig found at /nonexistent/.kube/config (from the default location)'],
  ])('explains %s', (_title, argv, env, message) => {
    expect(() => run(argv, env())).toThrow(ClusterError);
    expect(() => run(argv, env())).toThrow(message);
  });

  it('reads a file that is not a kubeconfig as an error naming it', async () => {
    const bad = join(dir, 'bad');
    await writeFile(bad, 'clusters: [');
    expect(() => run(['--kubeconfig', bad], {})).toThrow(ClusterError);
    expect(() => run(['--kubeconfig', bad], {})).toThrow(`cannot read the kubeconfig ${bad}`);
  });
});

describe('explainError', () => {
  const conn = { server: 'https://k8s.example:6443', context: 'prod' };
  const components = entityResource('Component');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  const status = (code: number, reason: string, message: string) => new KubeApiError({ status: code, reason, message, body: { code, reason, message } });

  it.each([
    [
      'no server',
      refused,
      components,
      'shop',
      'cannot reach the Kubernetes API server at https://k8s.example:6443 (context "prod"): connect ECONNREFUSED 127.0.0.1:6443. Check that the cluster is up and reachable from here, or choose another one with --context or --kubeconfig',
    ],
    [
      'no CRDs',
      status(404, 'NotFound', 'the server could not find the requested resource'),
      components,
      'shop',
      'the Backlot CRDs are not installed on the cluster at https://k8s.example:6443 (context "prod"): it does not serve components.catalog.backlot.dev. Install them with `backlot crds | kubectl apply -f -`',
    ],
    [
      'no permission in a namespace',
      status(403, 'Forbidden', 'components.catalog.backlot.dev is forbidden: User "jane" cannot list resource "components"'),
      components,
      'shop',
      'no permission to list components.catalog.backlot.dev in namespace "shop": components.catalog.backlot.dev is forbidden: User "jane" cannot list resource "components". Check what you may do with `kubectl auth can-i list components.catalog.backlot.dev -n shop`',
    ],
    [
      'no permission across namespaces',
      status(403, 'Forbidden', 'forbidden'),
      WORKLOAD_RESOURCES.Deployment,
      undefined,
      'no permission to list deployments.apps in all namespaces: forbidden. Check what you may do with `kubectl auth can-i list deployments.apps --all-namespaces`',
    ],
    [
      'no permission on a cluster-scoped resource',
      status(403, 'Forbidden', 'forbidden'),
      NAMESPACES,
      undefined,
      'no permission to list namespaces: forbidden. Check what you may do with `kubectl auth can-i list namespaces`',
    ],
    [
      'bad credentials',
      status(401, 'Unauthorized', 'Unauthorized'),
      components,
      'shop',
      'did not accept the credentials of context "prod" (401 Unauthorized): log in again, or choose another context with --context',
    ],
    [
      'anything else',
      status(500, 'InternalError', 'etcd is down'),
      components,
      'shop',
      'list components.catalog.backlot.dev in namespace "shop" failed: 500 InternalError: etcd is down',
    ],
  ])('%s', (_title, err, resource, namespace, message) => {
    const explained = explainError(err, conn, { resource, namespace, verb: 'list' });
    expect(explained).toBeInstanceOf(ClusterError);
    expect(explained.message).toContain(message);
    expect(explained.cause).toBe(err);
  });
});
