/**
 * `npm run cluster`: a local control plane in the foreground for development.
 * Prints `KUBECONFIG=<path>` once ready; Ctrl-C or SIGTERM stops it and removes its files.
 */
import { parseArgs } from 'node:util';
import { ControlPlane } from './controlplane.ts';

const HELP = `Usage: npm run cluster [-- --api-server-port N] [--keep]

Starts etcd and kube-apiserver on loopback (envtest style: no kubelet, no controller-manager)
and prints KUBECONFIG=<path> once the API server is ready. Ctrl-C stops everything.

Binaries come from TEST_ASSET_KUBE_APISERVER / TEST_ASSET_ETCD / TEST_ASSET_KUBECTL, then
$KUBEBUILDER_ASSETS, else they are built once from source with Go and cached.

Options:
  --api-server-port N   serve the API on this port instead of a free one
  --keep                keep the temporary directory (logs, etcd data) after stopping
  -h, --help            show this help
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
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
  const started = Date.now();
  const plane = await ControlPlane.start({ log, ...(port ? { ports: { apiServer: port } } : {}) });
  log(`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s (logs in ${plane.dir})`);
  process.stdout.write(`KUBECONFIG=${plane.kubeconfigPath}\n`);

  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string, keepDir = values.keep) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping the control plane`);
      plane.stop({ keepDir }).then(
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
      for (const proc of [plane.etcd, plane.apiServer]) {
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
