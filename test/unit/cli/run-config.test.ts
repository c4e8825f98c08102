import { describe, expect, it } from '@jest/globals';
import { delimiter } from 'node:path';
import { UsageError } from '../../../src/cli/command.ts';
import { loadRunConfig, runUsage } from '../../../src/cli/run-config.ts';

const load = (argv: string[], env: NodeJS.ProcessEnv = { HOME: '/home/op' }, files: Record<string, string> = {}) =>
  loadRunConfig({ argv, env, readTextFile: (p) => files[p], hostname: 'host-1' });

describe('loadRunConfig', () => {
  it('defaults outside a cluster: ~/.kube/config, no leader election, :8080 and :8081, info, 32 workers', () => {
    const config = load([]);
    expect(config).toMatchObject({
      kubeconfig: { kind: 'file', paths: ['/home/op/.kube/config'], from: 'the default location' },
      inCluster: false,
      namespaces: [],
      leaderElection: { enabled: false, leaseName: 'backlot-leader', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      metricsBindAddress: { host: undefined, port: 8080 },
      healthProbeBindAddress: { host: undefined, port: 8081 },
      logLevel: 'info',
      workers: 32,
      kubeApi: { qps: 1000, burst: 2000 },
      shutdownTimeoutMs: 30_000,
    });
    expect(config.leaderElection.identity).toMatch(/^host-1_[0-9a-f-]{36}$/);
  });

  it('is frozen all the way down', () => {
    const config = load(['--namespaces=a,b']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.leaderElection)).toBe(true);
    expect(Object.isFrozen(config.namespaces)).toBe(true);
  });

  it('in a cluster: the service account, leader election on, the Lease in its namespace', () => {
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', HOSTNAME: 'backlot-7d9f' };
    const config = load([], env, { '/var/run/secrets/kubernetes.io/serviceaccount/namespace': 'backlot-system\n' });
    expect(config.kubeconfig).toEqual({
      kind: 'in-cluster',
      host: '10.0.0.1',
      port: '443',
      tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    });
    expect(config.leaderElection).toMatchObject({ enabled: true, namespace: 'backlot-system' });
    expect(config.leaderElection.identity).toMatch(/^backlot-7d9f_/);
    expect(load(['--leader-elect=false'], env).leaderElection.enabled).toBe(false);
    expect(load([], { ...env, POD_NAMESPACE: 'ops' }).leaderElection.namespace).toBe('ops');
  });

  it('prefers --kubeconfig, then $KUBECONFIG (a list, as kubectl splits it), then the service account', () => {
    const inCluster = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(load(['--kubeconfig', '/k/flag'], { ...inCluster, KUBECONFIG: '/k/env' }).kubeconfig).toEqual({
      kind: 'file',
      paths: ['/k/flag'],
      from: '--kubeconfig',
    });
    expect(load([], { ...inCluster, KUBECONFIG: ['/k/a', '', '/k/b', '/k/a'].join(delimiter) }).kubeconfig).toEqual({
      kind: 'file',
      paths: ['/k/a', '/k/b'],
      from: 'KUBECONFIG',
    });
    expect(load(['--leader-elect=false'], { ...inCluster, KUBECONFIG: delimiter }).kubeconfig).toMatchObject({ kind: 'in-cluster' });
  });

  it.each([
    [['--leader-elect', '--leader-election-namespace=ops'], { enabled: true, namespace: 'ops' }],
    [['--leader-elect=true', '--leader-election-namespace', 'ops'], { enabled: true, namespace: 'ops' }],
    [['--leader-elect=false'], { enabled: false }],
    [
      ['--leader-elect', '--leader-election-namespace=ops', '--lease-duration=30s', '--renew-deadline=20s', '--retry-period=500ms'],
      { leaseDurationMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 500 },
    ],
    [['--leader-elect', '--leader-election-namespace=ops', '--leader-election-id=backlot.example.com'], { leaseName: 'backlot.example.com' }],
  ])('leader election flags %j', (argv, expected) => {
    expect(load(argv).leaderElection).toMatchObject(expected);
  });

  it('parses the other flags', () => {
    const config = load([
      '--namespaces= shop,payments,,shop',
      '--metrics-bind-address=0',
      '--health-probe-bind-address=127.0.0.1:9440',
      '--log-level=debug',
      '--workers=8',
    ]);
    expect(config).toMatchObject({
      namespaces: ['payments', 'shop'],
      metricsBindAddress: undefined,
      healthProbeBindAddress: { host: '127.0.0.1', port: 9440 },
      logLevel: 'debug',
      workers: 8,
    });
  });

  it('secures metrics in a pod, whichever kubeconfig it uses, and not outside: HTTPS on :8443, or HTTP on :8080', () => {
    const pod = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', POD_NAMESPACE: 'backlot-system' };
    expect(load([])).toMatchObject({
      metricsSecure: false,
      metricsBindAddress: { host: undefined, port: 8080 },
      metricsCert: undefined,
      catalogBindAddress: undefined,
    });
    expect(load([], pod)).toMatchObject({ metricsSecure: true, metricsBindAddress: { host: undefined, port: 8443 }, metricsCert: undefined });
    expect(load(['--kubeconfig=/k'], pod).metricsSecure).toBe(true);
    expect(load(['--metrics-secure=false'], pod)).toMatchObject({ metricsSecure: false, metricsBindAddress: { port: 8080 } });
    expect(load(['--metrics-secure'])).toMatchObject({ metricsSecure: true, metricsBindAddress: { port: 8443 } });
    expect(load(['--metrics-secure', '--metrics-bind-address=127.0.0.1:9443']).metricsBindAddress).toEqual({ host: '127.0.0.1', port: 9443 });
  });

  it('reads the metrics certificate from --metrics-cert-path, tls.crt and tls.key unless named', () => {
    expect(load(['--metrics-secure', '--metrics-cert-path=/certs']).metricsCert).toEqual({ dir: '/certs', certFile: 'tls.crt', keyFile: 'tls.key' });
    expect(load(['--metrics-secure', '--metrics-cert-path=/certs', '--metrics-cert-name=cert.pem', '--metrics-cert-key=key.pem']).metricsCert).toEqual({
      dir: '/certs',
      certFile: 'cert.pem',
      keyFile: 'key.pem',
    });
  });

  it('serves the Backstage export on its own plain port only when asked', () => {
    expect(load(['--catalog-bind-address=:8082']).catalogBindAddress).toEqual({ host: undefined, port: 8082 });
    expect(load(['--catalog-bind-address=0']).catalogBindAddress).toBeUndefined();
  });

  it.each([
    [['--kube-api-qps=50', '--kube-api-burst=300'], { qps: 50, burst: 300 }],
    [['--kube-api-qps', '0.5'], { qps: 0.5, burst: 2000 }],
    [['--kube-api-qps=0'], { qps: 0, burst: 2000 }],
    [['--kube-api-burst=1'], { qps: 1000, burst: 1 }],
  ])('client rate limit flags %j', (argv, expected) => {
    expect(load(argv).kubeApi).toEqual(expected);
  });

  it.each([
    [['--bogus'], 'unknown flag "--bogus" (known flags: --kubeconfig,'],
    [['--metrics-secure=yes'], '--metrics-secure: "yes" is not a boolean; expected --metrics-secure, --metrics-secure=true or --metrics-secure=false'],
    [['--metrics-secure', '--metrics-cert-name=tls.crt'], '--metrics-cert-name needs --metrics-cert-path (the directory that holds the file)'],
    [
      ['--metrics-secure', '--metrics-cert-path=/c', '--metrics-cert-key=../key'],
      '--metrics-cert-key: expected a file name inside --metrics-cert-path, like tls.crt',
    ],
    [['--metrics-secure=false', '--metrics-cert-path=/c'], '--metrics-cert-path needs --metrics-secure=true: plain HTTP uses no certificate'],
    [['--catalog-bind-address=8082'], '--catalog-bind-address: "8082" is not an address'],
    [
      ['--catalog-bind-address=:8082', '--serve-catalog-info=false'],
      '--catalog-bind-address serves the Backstage export, which --serve-catalog-info=false turns off',
    ],
    [['run'], 'unexpected argument "run": run takes flags only'],
    [['--workers'], 'flag --workers needs a value: --workers=N'],
    [['--workers=1', '--workers=2'], 'flag --workers given more than once'],
    [['--workers=0'], '--workers: expected a whole number from 1 to 64'],
    [['--workers=two'], '--workers: expected a whole number from 1 to 64'],
    [['--kube-api-qps=-1'], '--kube-api-qps: expected requests per second, a number 0 or above (0: no client-side limit), like 1000 or 0.5'],
    [['--kube-api-qps=fast'], '--kube-api-qps: expected requests per second'],
    [['--kube-api-burst=0'], '--kube-api-burst: expected a whole number, 1 or above'],
    [['--kube-api-burst=1.5'], '--kube-api-burst: expected a whole number, 1 or above'],
    [['--lease-duration=15'], '--lease-duration: "15" is not a duration; expected a form like 15s, 1m30s or 500ms'],
    [['--leader-elect=yes'], '--leader-elect: "yes" is not a boolean; expected --leader-elect, --leader-elect=true or --leader-elect=false'],
    [['--metrics-bind-address=8080'], '--metrics-bind-address: "8080" is not an address; expected host:port, :port (all interfaces) or 0 (disabled)'],
    [['--namespaces=Shop,ok'], '--namespaces: "Shop" is not a namespace name; expected lower-case DNS labels like shop,payments'],
    [['--log-level=loud'], '--log-level: "loud" is not a level'],
    [['--leader-elect'], '--leader-election-namespace is required with leader election outside a cluster (or set --leader-elect=false)'],
    [
      ['--leader-elect', '--leader-election-namespace=ops', '--lease-duration=5s'],
      'lease duration (5000 ms) must be greater than the renew deadline (10000 ms)',
    ],
  ])('rejects %j with a usage error naming the flag', (argv, message) => {
    let error: unknown;
    try {
      load(argv);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(message);
  });

  it('lists every flag in the usage text', () => {
    for (const flag of [
      '--kubeconfig',
      '--namespaces',
      '--leader-elect',
      '--leader-election-namespace',
      '--lease-duration',
      '--renew-deadline',
      '--retry-period',
      '--metrics-bind-address',
      '--metrics-secure',
      '--metrics-cert-path',
      '--metrics-cert-name',
      '--metrics-cert-key',
      '--health-probe-bind-address',
      '--log-level',
      '--workers',
      '--catalog-bind-address',
      '--kube-api-qps',
      '--kube-api-burst',
    ]) {
      expect(runUsage()).toContain(flag);
    }
  });
});
