/**
 * The configuration of `backlot run`: the one place that reads its command line and
 * environment. Everything is parsed (zod) and checked up front, defaults that depend on
 * where the process runs are resolved here, and the result is frozen, so the rest of the
 * program never reads process.env or argv.
 *
 * One file at the usual size's edge because each flag's spec, check and default are read
 * together here, so that a flag is added or changed in one place.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from './command.ts';
import { commandHelp, parseFlags, type FlagSpec } from './flags.ts';
import { kubeconfigFiles, type KubeconfigSource } from '../k8s/kubeconfig.ts';
import { DEFAULT_LEASE_TIMING, validateLeaseTiming } from '../runtime/lease.ts';
import { parseBindAddress, type BindAddress } from '../util/bind-address.ts';
import { parseDuration } from '../util/duration.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface RunConfig {
  kubeconfig: KubeconfigSource;
  inCluster: boolean;
  /** Watch only these namespaces; empty: all. */
  namespaces: readonly string[];
  leaderElection: {
    enabled: boolean;
    /** Where the Lease lives; set whenever leader election is enabled. */
    namespace: string | undefined;
    leaseName: string;
    /** This process's name in the Lease: `<hostname>_<uuid>`, unique per process as client-go's. */
    identity: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  /** undefined: the server is disabled ("0"). */
  metricsBindAddress: BindAddress | undefined;
  /**
   * HTTPS, every request authenticated (TokenReview) and authorized (SubjectAccessReview) by
   * the API server; false: plain HTTP to anyone (development).
   */
  metricsSecure: boolean;
  /**
   * Where the metrics server's certificate and key are read from (and re-read when they
   * change); undefined, or files not there: a self-signed certificate made at start.
   */
  metricsCert: { dir: string; certFile: string; keyFile: string } | undefined;
  /** A plain-HTTP listener serving the Backstage export alone, to anyone; undefined: none ("0", the default). */
  catalogBindAddress: BindAddress | undefined;
  healthProbeBindAddress: BindAddress | undefined;
  logLevel: LogLevel;
  workers: number;
  /**
   * The client-side rate limit of requests to the API server, one token bucket for all of
   * them; qps 0: none (API Priority and Fairness on the server alone).
   */
  kubeApi: { qps: number; burst: number };
  /** How long SIGTERM may take: drain, release the lease, flush. */
  shutdownTimeoutMs: number;
  /** Backlot's own namespace ($POD_NAMESPACE, else the Lease's): never reported for orphans. */
  ownNamespace: string | undefined;
  /**
   * GET /catalog-info.yaml on the metrics port (with metricsSecure, to callers that may list
   * the catalog) and on catalogBindAddress, for Backstage to register as a URL location.
   */
  catalogInfo: { enabled: boolean; defaultNamespace: string };
}

/** The flags of `backlot run`, in the order --help lists them. */
export const RUN_FLAGS: readonly FlagSpec[] = [
  {
    name: 'kubeconfig',
    type: 'string',
    value: 'PATH',
    help: 'kubeconfig file; default: $KUBECONFIG, then the in-cluster service account, then ~/.kube/config',
  },
  { name: 'namespaces', type: 'string', value: 'NS[,NS...]', help: 'watch only these namespaces (comma-separated); default: all namespaces' },
  { name: 'leader-elect', type: 'boolean', value: '[=true|false]', help: 'run only while holding the leader Lease; default: true in a cluster, false outside' },
  {
    name: 'leader-election-namespace',
    type: 'string',
    value: 'NS',
    help: "namespace of the leader Lease; default: $POD_NAMESPACE, then the service account's namespace",
  },
  { name: 'leader-election-id', type: 'string', value: 'NAME', help: 'name of the leader Lease (default backlot-leader)' },
  { name: 'lease-duration', type: 'string', value: 'DURATION', help: 'how long a leader Lease is valid without renewal (default 15s)' },
  { name: 'renew-deadline', type: 'string', value: 'DURATION', help: 'how long the leader keeps trying to renew before it steps down (default 10s)' },
  { name: 'retry-period', type: 'string', value: 'DURATION', help: 'time between acquire and renew attempts (default 2s)' },
  {
    name: 'metrics-bind-address',
    type: 'string',
    value: 'ADDR',
    help: 'where /metrics is served, host:port or :port; 0 disables (default :8443 with --metrics-secure, :8080 without)',
  },
  {
    name: 'metrics-secure',
    type: 'boolean',
    value: '[=true|false]',
    help: 'serve metrics over HTTPS to callers the API server authenticates and authorizes for get on /metrics (and /catalog-info.yaml to those that may list every catalog kind); default: true in a cluster, false outside',
  },
  {
    name: 'metrics-cert-path',
    type: 'string',
    value: 'DIR',
    help: 'directory holding the metrics server certificate and key, re-read when they change; default: none, a self-signed certificate',
  },
  { name: 'metrics-cert-name', type: 'string', value: 'FILE', help: 'the certificate file in --metrics-cert-path (default tls.crt)' },
  { name: 'metrics-cert-key', type: 'string', value: 'FILE', help: 'the private key file in --metrics-cert-path (default tls.key)' },
  { name: 'health-probe-bind-address', type: 'string', value: 'ADDR', help: 'where /healthz and /readyz are served; 0 disables (default :8081)' },
  { name: 'log-level', type: 'string', value: 'LEVEL', help: 'trace, debug, info, warn, error, fatal or silent (default info)' },
  {
    name: 'workers',
    type: 'string',
    value: 'N',
    help: 'concurrent reconciles of the ownership controller (default 32); the entity controller runs half as many, and its derived work holds at most a quarter of those while direct work runs',
  },
  { name: 'kube-api-qps', type: 'string', value: 'QPS', help: 'requests per second to the API server, the client-side limit; 0 turns it off (default 1000)' },
  { name: 'kube-api-burst', type: 'string', value: 'N', help: 'requests that may go at once before --kube-api-qps paces the rest (default 2000)' },
  {
    name: 'serve-catalog-info',
    type: 'boolean',
    value: '[=true|false]',
    help: 'serve the catalog as Backstage YAML at /catalog-info.yaml on the metrics port (default true)',
  },
  {
    name: 'catalog-info-default-namespace',
    type: 'string',
    value: 'NS',
    help: "the namespace written as Backstage's default namespace in /catalog-info.yaml (default default)",
  },
  {
    name: 'catalog-bind-address',
    type: 'string',
    value: 'ADDR',
    help: 'also serve /catalog-info.yaml and its API definitions here, plain HTTP with no authentication, for a Backstage backend; 0 disables (default 0)',
  },
];

const RUN_HELP = commandHelp({
  usage: 'backlot run [flags]',
  description: `
Runs the operator: watches the catalog and the workloads, reconciles while it leads,
serves metrics and health probes, and drains and hands over its lease on SIGTERM.`,
  examples: `
  # Outside a cluster, against the current context of the kubeconfig
  backlot run --kubeconfig ~/.kube/config

  # In a cluster, as deploy/deployment.yaml runs it
  backlot run --leader-elect=true --metrics-secure=true --metrics-cert-path=/etc/backlot/metrics-cert`,
  flags: RUN_FLAGS,
  notes: 'Durations are written like 15s, 1m30s or 500ms.',
});

export function runUsage(): string {
  return RUN_HELP;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const duration = (flag: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `--${flag}: "${text}" is not a duration; expected a form like 15s, 1m30s or 500ms` });
      return z.NEVER;
    }
    return ms;
  });

const bindAddress = (flag: string) =>
  z.string().transform((text, ctx) => {
    const parsed = parseBindAddress(text);
    if (parsed === 'invalid') {
      ctx.addIssue({ code: 'custom', message: `--${flag}: "${text}" is not an address; expected host:port, :port (all interfaces) or 0 (disabled)` });
      return z.NEVER;
    }
    // null, not undefined: "0" (disabled) must stay distinct from an absent flag (the default).
    return parsed ?? null;
  });

/** A file name inside a directory flag's directory: no path separator, not `.` or `..`. */
const fileName = (flag: string) => z.string().regex(/^(?!\.\.?$)[^/]+$/, `--${flag}: expected a file name inside --metrics-cert-path, like tls.crt`);

const FlagsSchema = z
  .object({
    kubeconfig: z.string().min(1, '--kubeconfig: expected a file path').optional(),
    namespaces: z
      .string()
      .transform((text, ctx) => {
        const list = [
          ...new Set(
            text
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          ),
        ].sort();
        const bad = list.filter((ns) => !DNS_LABEL.test(ns) || ns.length > 63);
        if (bad.length > 0) {
          ctx.addIssue({
            code: 'custom',
            message: `--namespaces: ${bad.map((b) => `"${b}"`).join(', ')} is not a namespace name; expected lower-case DNS labels like shop,payments`,
          });
          return z.NEVER;
        }
        return list;
      })
      .optional(),
    'leader-elect': z.boolean().optional(),
    'leader-election-namespace': z.string().regex(DNS_LABEL, '--leader-election-namespace: expected a namespace name (a lower-case DNS label)').optional(),
    'leader-election-id': z.string().regex(DNS_SUBDOMAIN, '--leader-election-id: expected a Lease name (lower-case letters, digits, "-" and ".")').optional(),
    'lease-duration': duration('lease-duration').optional(),
    'renew-deadline': duration('renew-deadline').optional(),
    'retry-period': duration('retry-period').optional(),
    'metrics-bind-address': bindAddress('metrics-bind-address').optional(),
    'metrics-secure': z.boolean().optional(),
    'metrics-cert-path': z.string().min(1, '--metrics-cert-path: expected a directory').optional(),
    'metrics-cert-name': fileName('metrics-cert-name').optional(),
    'metrics-cert-key': fileName('metrics-cert-key').optional(),
    'health-probe-bind-address': bindAddress('health-probe-bind-address').optional(),
    'log-level': z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        error: (issue) => `--log-level: "${String(issue.input)}" is not a level; expected one of trace, debug, info, warn, error, fatal, silent`,
      })
      .optional(),
    workers: z
      .string()
      .regex(/^\d+$/, '--workers: expected a whole number from 1 to 64')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 64, '--workers: expected a whole number from 1 to 64')
      .optional(),
    'kube-api-qps': z
      .string()
      .regex(/^\d+(\.\d+)?$/, '--kube-api-qps: expected requests per second, a number 0 or above (0: no client-side limit), like 1000 or 0.5')
      .transform(Number)
      .optional(),
    'kube-api-burst': z
      .string()
      .regex(/^\d+$/, '--kube-api-burst: expected a whole number, 1 or above')
      .transform(Number)
      .refine((n) => n >= 1 && Number.isSafeInteger(n), '--kube-api-burst: expected a whole number, 1 or above')
      .optional(),
    'serve-catalog-info': z.boolean().optional(),
    'catalog-info-default-namespace': z
      .string()
      .regex(DNS_LABEL, '--catalog-info-default-namespace: expected a namespace name (a lower-case DNS label)')
      .optional(),
    'catalog-bind-address': bindAddress('catalog-bind-address').optional(),
  })
  .strict();

export interface LoadRunConfigOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Reads a small text file, undefined when absent; the service account's namespace file. */
  readTextFile?: (path: string) => string | undefined;
  hostname?: string;
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parses and checks the command line and environment of `backlot run`; throws UsageError naming the flag. */
export function loadRunConfig(options: LoadRunConfigOptions): RunConfig {
  const { env } = options;
  const readTextFile = options.readTextFile ?? readIfPresent;
  const given = parseFlags(options.argv, RUN_FLAGS, { command: 'run' });
  const parsed = FlagsSchema.safeParse({ ...Object.fromEntries(given.strings), ...Object.fromEntries(given.booleans) });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('\n'));
  const flags = parsed.data;

  const inClusterEnv = Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT);
  // controller-runtime's order: --kubeconfig, $KUBECONFIG, the service account, ~/.kube/config.
  const files = kubeconfigFiles(flags.kubeconfig, env);
  let kubeconfig: KubeconfigSource = files;
  if (files.from === 'the default location' && inClusterEnv) {
    kubeconfig = {
      kind: 'in-cluster',
      host: env.KUBERNETES_SERVICE_HOST!,
      port: env.KUBERNETES_SERVICE_PORT!,
      tokenFile: join(SERVICE_ACCOUNT_DIR, 'token'),
      caFile: join(SERVICE_ACCOUNT_DIR, 'ca.crt'),
    };
  }
  const inCluster = kubeconfig.kind === 'in-cluster';

  const leaderElect = flags['leader-elect'] ?? inCluster;
  const leaseNamespace =
    flags['leader-election-namespace'] ??
    (env.POD_NAMESPACE || undefined) ??
    (inCluster ? readTextFile(join(SERVICE_ACCOUNT_DIR, 'namespace'))?.trim() || undefined : undefined);
  if (leaderElect && !leaseNamespace) {
    throw new UsageError('--leader-election-namespace is required with leader election outside a cluster (or set --leader-elect=false)');
  }
  const timing = {
    leaseDurationMs: flags['lease-duration'] ?? DEFAULT_LEASE_TIMING.leaseDurationMs,
    renewDeadlineMs: flags['renew-deadline'] ?? DEFAULT_LEASE_TIMING.renewDeadlineMs,
    retryPeriodMs: flags['retry-period'] ?? DEFAULT_LEASE_TIMING.retryPeriodMs,
  };
  try {
    validateLeaseTiming(timing);
  } catch (err) {
    throw new UsageError(`--lease-duration, --renew-deadline, --retry-period: ${(err as Error).message}`);
  }
  const host = env.POD_NAME || env.HOSTNAME || options.hostname || hostname();
  // Secure wherever the process runs in a pod, whichever kubeconfig it uses: there other pods
  // can reach the port. Outside a cluster (development) plain HTTP, as before.
  const metricsSecure = flags['metrics-secure'] ?? inClusterEnv;
  const certFlags = (['metrics-cert-name', 'metrics-cert-key'] as const).filter((f) => flags[f] !== undefined);
  if (!flags['metrics-cert-path'] && certFlags.length > 0)
    throw new UsageError(`--${certFlags[0]} needs --metrics-cert-path (the directory that holds the file)`);
  if (flags['metrics-cert-path'] && !metricsSecure) throw new UsageError('--metrics-cert-path needs --metrics-secure=true: plain HTTP uses no certificate');
  const serveCatalogInfo = flags['serve-catalog-info'] ?? true;
  if (flags['catalog-bind-address'] && !serveCatalogInfo)
    throw new UsageError('--catalog-bind-address serves the Backstage export, which --serve-catalog-info=false turns off: drop one of them');

  return deepFreeze({
    kubeconfig,
    inCluster,
    namespaces: flags.namespaces ?? [],
    leaderElection: {
      enabled: leaderElect,
      namespace: leaseNamespace,
      leaseName: flags['leader-election-id'] ?? 'backlot-leader',
      identity: `${host}_${randomUUID()}`,
      ...timing,
    },
    metricsBindAddress:
      flags['metrics-bind-address'] === undefined ? { host: undefined, port: metricsSecure ? 8443 : 8080 } : (flags['metrics-bind-address'] ?? undefined),
    metricsSecure,
    metricsCert: flags['metrics-cert-path']
      ? { dir: flags['metrics-cert-path'], certFile: flags['metrics-cert-name'] ?? 'tls.crt', keyFile: flags['metrics-cert-key'] ?? 'tls.key' }
      : undefined,
    catalogBindAddress: flags['catalog-bind-address'] ?? undefined,
    healthProbeBindAddress:
      flags['health-probe-bind-address'] === undefined ? { host: undefined, port: 8081 } : (flags['health-probe-bind-address'] ?? undefined),
    logLevel: flags['log-level'] ?? 'info',
    // Reconciles mostly wait on the API server. 32 for the ownership controller's bulk of
    // applies; the entity controller runs half as many (entityWorkers in catalog.ts).
    workers: flags.workers ?? 32,
    // A ceiling above what a first install needs: the bucket refills faster than the API server
    // of docs/benchmarks.md answers a first install's writes, so it does not slow a cold start;
    // a runaway loop is held to 1000 a second. See README, "Configuration".
    kubeApi: { qps: flags['kube-api-qps'] ?? 1000, burst: flags['kube-api-burst'] ?? 2000 },
    shutdownTimeoutMs: 30_000,
    ownNamespace: env.POD_NAMESPACE || leaseNamespace,
    catalogInfo: { enabled: serveCatalogInfo, defaultNamespace: flags['catalog-info-default-namespace'] ?? 'default' },
  });
}
