/**
 * `npm run cluster`: a local cluster in the foreground for development, realistic by default
 * (controllers, scheduler, kwok nodes) or bare (`--bare`: etcd and kube-apiserver only).
 * Prints `KUBECONFIG=<path>` once ready; Ctrl-C or SIGTERM stops it and removes its files.
 */
import { parseArgs } from 'node:util';
import { Cluster, FAILING_IMAGE_SUFFIX, KWOK_STAGES, UNREADY_IMAGE_SUFFIX } from './cluster.ts';
import { ControlPlane } from './controlplane.ts';
import type { ManagedProcess } from './process.ts';

const HELP = `Usage: npm run cluster [-- --bare] [--api-server-port N] [--keep]

Starts a local Kubernetes cluster on loopback and prints KUBECONFIG=<path> once it is ready.
Ctrl-C stops everything.

By default: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, with three
fake nodes over two zones. Deployments, StatefulSets, DaemonSets, Jobs and CronJobs run for
real; kwok plays each pod's lifecycle (src/envtest/kwok/stages.yaml): pods turn ready, Job pods
complete, an image ending in "${UNREADY_IMAGE_SUFFIX}" never turns ready, a Job's image ending in "${FAILING_IMAGE_SUFFIX}" fails.
With --bare: etcd and kube-apiserver only (envtest style: no controllers, no nodes).

Binaries come from TEST_ASSET_KUBE_APISERVER / TEST_ASSET_ETCD / TEST_ASSET_KUBECTL /
TEST_ASSET_KUBE_CONTROLLER_MANAGER / TEST_ASSET_KUBE_SCHEDULER / TEST_ASSET_KWOK, then
$KUBEBUILDER_ASSETS, else they are built once from source with Go and cached.

Options:
  --bare                only etcd and kube-apiserver
  --api-server-port N   serve the API on this port instead of a free one
  --keep                keep the temporary directory (logs, etcd data) after stopping
  -h, --help            show this help
`;

function describe(processes: ManagedProcess[]): string {
  return processes.map((p) => `  ${p.name.padEnd(24)} pid ${String(p.pid ?? '?').padEnd(8)} log ${p.logPath}`).join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      bare: { type: 'boolean', default: false },
      'api-server-port': { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const port = values['api-server-port'] ? Number(values['api-server-port']) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    log(`--api-server-port must be a port number, got ${values['api-server-port']}`);
    return 2;
  }
  const options = { log, ...(port ? { ports: { apiServer: port } } : {}) };
  const started = Date.now();
  const running: ControlPlane | Cluster = values.bare ? await ControlPlane.start(options) : await Cluster.start(options);
  if (running instanceof Cluster) log(`nodes (kwok): ${running.nodes.map((n) => `${n.name} (${n.zone})`).join(', ')}; stages: ${KWOK_STAGES}`);
  log(
    `${values.bare ? 'bare control plane' : 'cluster'} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (files in ${running.dir}):\n${describe(running.processes)}`,
  );
  process.stdout.write(`KUBECONFIG=${running.kubeconfigPath}\n`);

  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string, keepDir = values.keep) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping`);
      running.stop({ keepDir }).then(
        () => resolve(0),
        (err: unknown) => {
          log(`stop failed: ${(err as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    const watch = setInterval(() => {
      for (const proc of running.processes) {
        if (!proc.running && !stopping) {
          clearInterval(watch);
          log(`${proc.name} exited unexpectedly; its log is kept at ${proc.logPath}`);
          stop('exit', true);
        }
      }
    }, 1000);
    watch.unref();
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`backlot cluster: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
