/**
 * `npm run demo`: Backlot on the example catalog, from nothing. Starts the realistic local
 * cluster (unless --kubeconfig names one), installs the CRDs, applies examples/, waits for the
 * real controllers to roll the workloads out on kwok's nodes, runs `backlot run`, and keeps a
 * little churn going through the workloads themselves: a Deployment rolls out an image whose
 * pods never turn ready and back, the CronJob runs every minute and its image alternates
 * between one whose Jobs succeed and one whose Jobs fail, and an unowned Deployment comes and
 * goes. No status is written here: the controllers and kwok write all of it.
 * Ctrl-C stops everything it started.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveClusterAssets } from './assets.ts';
import { Cluster, FAILING_IMAGE_SUFFIX, UNREADY_IMAGE_SUFFIX } from './cluster.ts';
import { runKubectl } from './kubectl.ts';
import { BacklotProcess } from './operator-process.ts';

const ROOT = join(import.meta.dirname, '../..');

const HELP = `Usage: npm run demo [-- --kubeconfig PATH] [--no-churn]

Runs Backlot on the example catalog. Without --kubeconfig it starts the realistic local
cluster (as 'npm run cluster': controllers, scheduler and three kwok nodes); with it, it uses
that cluster, which must run the example pods somehow (their images are not pullable: another
'npm run cluster' is the one that does). The CRDs and examples/ are applied to it.

Options:
  --kubeconfig PATH   use this cluster instead of a local one
  --no-churn          leave the workloads alone once they are up
  -h, --help          show this help
`;

const CHURN_INTERVAL_MS = 10_000;
/** The Deployment that breaks and mends, and the CronJob whose runs fail and succeed. */
const GATEWAY = { namespace: 'shop', name: 'payments-gateway', container: 'app', image: 'registry.example.com/shop/payments-gateway:5.3.0' };
const RECONCILER = { namespace: 'shop', name: 'payments-reconciler', container: 'reconcile', image: 'registry.example.com/shop/payments-reconciler:5.3.0' };

function step(message: string): void {
  process.stderr.write(`==> ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

/** The image of `base` retagged so that kwok plays it as `suffix` says. */
function marked(image: string, suffix: string): string {
  return image.replace(/:[^:/]+$/, '') + suffix;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { kubeconfig: { type: 'string' }, 'no-churn': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const stopping = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stopping.abort());
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    step('finding kube-apiserver, etcd, kubectl, kube-controller-manager, kube-scheduler and kwok (the first run builds them: several minutes)');
    const subLog = (line: string) => process.stderr.write(`    ${line}\n`);
    const assets = await resolveClusterAssets({ log: subLog });
    let kubeconfig = values.kubeconfig;
    let workDir: string;
    if (!kubeconfig) {
      step('starting the local cluster: control plane, controllers, scheduler, kwok nodes');
      const cluster = await Cluster.start({ assets, log: subLog });
      cleanups.push(() => cluster.stop());
      kubeconfig = cluster.kubeconfigPath;
      workDir = cluster.dir;
    } else {
      workDir = await mkdtemp(join(tmpdir(), 'backlot-demo-'));
    }
    const kubectl = async (...args: string[]) => {
      const r = await runKubectl({ binary: assets.kubectl, kubeconfig: kubeconfig, args, timeoutMs: 180_000 });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
      return r.stdout;
    };
    step('installing the CRDs');
    await kubectl('apply', '-f', join(ROOT, 'crds'));
    await kubectl('wait', '--for', 'condition=Established', 'crd', '-l', 'app.kubernetes.io/part-of=backlot', '--timeout=60s');
    step('applying examples/ (namespaces, catalog, workloads)');
    await kubectl('apply', '-f', join(ROOT, 'examples/00-namespaces.yaml'));
    await kubectl('apply', '-R', '-f', join(ROOT, 'examples'));
    if (!values['no-churn']) {
      step(`${RECONCILER.name} runs every minute for the demo`);
      await kubectl('patch', 'cronjob', '-n', RECONCILER.namespace, RECONCILER.name, '--type=merge', '-p', '{"spec":{"schedule":"* * * * *"}}');
    }
    step('waiting for the controllers to roll the workloads out on the kwok nodes');
    for (const ns of ['shop', 'platform']) await kubectl('rollout', 'status', '-n', ns, 'deployment,statefulset,daemonset', '--timeout=150s');

    step('starting backlot run');
    const operator = await BacklotProcess.start({ kubeconfig, logPath: join(workDir, 'backlot.log'), extraArgs: ['--leader-elect=false'] });
    cleanups.unshift(() => operator.stop());
    await operator.waitReady();

    process.stdout.write(`
Backlot is running on the example catalog. In another shell:

  export KUBECONFIG=${kubeconfig}
  alias kubectl=${assets.kubectl}

  kubectl get catalog -A                                  # every entity, with Ready
  kubectl get components -n shop                          # owners, systems, workloads ready/total
  kubectl describe component -n shop checkout             # conditions: Ready, DependenciesReady, ...
  kubectl get deploy -A -L backlot.dev/owner              # ownership written onto workloads
  kubectl get pods -n shop -o wide                        # the pods, on kwok's nodes
  kubectl get jobs -n shop                                # the CronJob's runs
  kubectl events -n shop --for component/payments-gateway   # transitions as Events
  curl -s ${operator.metricsUrl} | grep -E '^backlot_(orphaned|entity_ready)'

The operator's log: ${operator.logPath}
${
  values['no-churn']
    ? ''
    : `Every ${CHURN_INTERVAL_MS / 1000} s ${GATEWAY.name} rolls out an image whose pods never turn ready, or rolls back,
and an unowned Deployment comes or goes; every minute ${RECONCILER.name} runs a Job, whose image
alternates each minute between one that succeeds and one that fails.
`
}Ctrl-C stops everything.
`);

    const setImage = (target: typeof GATEWAY, kind: string, image: string) =>
      kubectl('set', 'image', '-n', target.namespace, `${kind}/${target.name}`, `${target.container}=${image}`);
    const churn = async (tick: number) => {
      if (tick % 2 === 1) {
        step(`churn: ${GATEWAY.name} rolls out ${marked(GATEWAY.image, UNREADY_IMAGE_SUFFIX)}, whose pods never turn ready; an unowned Deployment appears`);
        await setImage(GATEWAY, 'deployment', marked(GATEWAY.image, UNREADY_IMAGE_SUFFIX));
        await kubectl('create', 'deployment', '-n', 'shop', 'pop-up-experiment', '--image=registry.example.com/experiment:1');
      } else {
        step(`churn: ${GATEWAY.name} rolls back to ${GATEWAY.image}; the unowned Deployment goes`);
        await setImage(GATEWAY, 'deployment', GATEWAY.image);
        await kubectl('delete', 'deployment', '-n', 'shop', 'pop-up-experiment', '--ignore-not-found');
      }
      // Every minute, the next runs of the CronJob switch between failing and succeeding.
      const perMinute = 60_000 / CHURN_INTERVAL_MS;
      if (tick % perMinute === 0) {
        const failing = (tick / perMinute) % 2 === 1;
        const image = failing ? marked(RECONCILER.image, FAILING_IMAGE_SUFFIX) : RECONCILER.image;
        step(`churn: ${RECONCILER.name}'s next Jobs run ${image}, which ${failing ? 'fails' : 'succeeds'}`);
        await setImage(RECONCILER, 'cronjob', image);
      }
    };

    let tick = 0;
    while (!stopping.signal.aborted) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, CHURN_INTERVAL_MS);
        stopping.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
      });
      if (stopping.signal.aborted || values['no-churn']) continue;
      if (!operator.running) throw new Error(`backlot run exited; see ${operator.logPath}`);
      tick++;
      try {
        await churn(tick);
      } catch (err) {
        // Ctrl-C arriving mid-step interrupts its kubectl; that is a stop, not a failure.
        if (!stopping.signal.aborted) throw err;
      }
    }
    step('stopping');
    return 0;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => process.stderr.write(`cleanup failed: ${(err as Error).message}\n`));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
