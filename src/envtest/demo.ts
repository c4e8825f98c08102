/**
 * `npm run demo`: Backlot on the example catalog, from nothing. Starts a local control plane
 * (unless --kubeconfig names a cluster), installs the CRDs, applies examples/, reports the
 * workloads ready as their controllers would, runs `backlot run`, and keeps a little churn
 * going so that status, Events and metrics move. Ctrl-C stops everything it started.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { RestClient } from '../k8s/rest.ts';
import { resolveAssets } from './assets.ts';
import { ControlPlane, runKubectl } from './controlplane.ts';
import { BacklotProcess } from './operator-process.ts';
import { GenerationFollower, makeNamespaceReady, setReplicasReady, setServiceEndpoints } from './simulate.ts';

const ROOT = join(import.meta.dirname, '../..');

const HELP = `Usage: npm run demo [-- --kubeconfig PATH] [--no-churn]

Runs Backlot on the example catalog. Without --kubeconfig it starts a local control plane
(etcd and kube-apiserver, as in 'npm run cluster'); with it, it uses that cluster (the CRDs
and examples/ are applied to it).

Options:
  --kubeconfig PATH   use this cluster instead of a local one
  --no-churn          do not flip workloads between ready and not ready
  -h, --help          show this help
`;

function step(message: string): void {
  process.stderr.write(`==> ${message}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, 'no-churn': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const stopping = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stopping.abort());
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    step('finding kube-apiserver, etcd and kubectl (the first run builds them: a few minutes)');
    const assets = await resolveAssets({ log: (line) => process.stderr.write(`    ${line}\n`) });
    let kubeconfig = values.kubeconfig;
    let workDir: string;
    if (!kubeconfig) {
      step('starting a local control plane');
      const plane = await ControlPlane.start({ assets, log: (line) => process.stderr.write(`    ${line}\n`) });
      cleanups.push(() => plane.stop());
      kubeconfig = plane.kubeconfigPath;
      workDir = plane.dir;
    } else {
      workDir = await mkdtemp(join(tmpdir(), 'backlot-demo-'));
    }
    const kubectl = async (...args: string[]) => {
      const r = await runKubectl({ binary: assets.kubectl, kubeconfig: kubeconfig, args });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
      return r.stdout;
    };
    step('installing the CRDs');
    await kubectl('apply', '-f', join(ROOT, 'crds'));
    await kubectl('wait', '--for', 'condition=Established', 'crd', '-l', 'app.kubernetes.io/part-of=backlot', '--timeout=60s');
    step('applying examples/ (namespaces, catalog, workloads)');
    await kubectl('apply', '-f', join(ROOT, 'examples/00-namespaces.yaml'));
    await kubectl('apply', '-R', '-f', join(ROOT, 'examples'));
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const client = new RestClient(kc);
    step('reporting the workloads ready, as their controllers would');
    for (const ns of ['shop', 'platform']) await makeNamespaceReady(client, ns);
    const follower = new GenerationFollower(client, ['shop', 'platform']);
    follower.start();
    cleanups.unshift(() => follower.stop());

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
  kubectl get deploy -n shop checkout -o jsonpath='{.metadata.annotations}'
  kubectl events -n shop --for component/payments-gateway   # transitions as Events
  curl -s ${operator.metricsUrl} | grep -E '^backlot_(orphaned|entity_ready)'

The operator's log: ${operator.logPath}
${values['no-churn'] ? '' : 'Every 10 s payments-gateway loses or regains its replicas, and an unowned Deployment comes or goes.\n'}Ctrl-C stops everything.
`);

    const gateway = { namespace: 'shop', name: 'payments-gateway' };
    const churn = async (tick: number) => {
      if (tick % 2 === 1) {
        step('churn: payments-gateway down to 1/3 ready; an unowned Deployment appears');
        await setReplicasReady(client, 'Deployment', gateway, 1);
        await setServiceEndpoints(client, gateway, 3, 0);
        await kubectl('create', 'deployment', '-n', 'shop', 'pop-up-experiment', '--image=registry.example/experiment:1');
      } else {
        step('churn: payments-gateway recovers; the unowned Deployment goes');
        await setReplicasReady(client, 'Deployment', gateway);
        await setServiceEndpoints(client, gateway, 3, 3);
        await kubectl('delete', 'deployment', '-n', 'shop', 'pop-up-experiment', '--ignore-not-found');
      }
    };

    let tick = 0;
    while (!stopping.signal.aborted) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 10_000);
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
