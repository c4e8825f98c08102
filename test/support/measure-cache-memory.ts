/**
 * Measures what one cached Deployment costs in heap, with and without a cache transform.
 * Starts its own control plane, creates N Deployments (with a status written by a second
 * field manager, as a workload controller would), then fills an informer three times:
 * keeping whole objects, dropping managedFields (the default), and keeping only the fields
 * a consumer reads. Run with the GC exposed:
 *
 *   node --expose-gc test/support/measure-cache-memory.ts [N=2000]
 *
 * Each measurement runs in a fresh child process (this file with --measure).
 */
import { execFile } from 'node:child_process';
import { AppsV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { WORKLOAD_RESOURCES } from '../../src/api/workloads.ts';
import { NAMESPACES } from '../../src/k8s/resource.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { keepPaths, type Transform } from '../../src/runtime/transform.ts';
import { planeKubeConfig } from './plane-client.ts';

const count = Number(process.argv[2] === '--measure' ? 0 : (process.argv[2] ?? 2000));
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function deployment(i: number): V1Deployment {
  const app = `svc-${i}`;
  return {
    metadata: {
      name: app,
      labels: { 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': 'shop', team: `team-${i % 17}` },
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { 'app.kubernetes.io/name': app } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': app, team: `team-${i % 17}` } },
        spec: {
          containers: [
            {
              name: 'app',
              image: `registry.example/shop/${app}:1.${i % 40}.2`,
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'DB_HOST', value: `db-${i % 5}.shop.svc` },
              ],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
            },
          ],
        },
      },
    },
  };
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function heapUsed(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

type Variant = 'whole' | 'default' | 'strict';
const TRANSFORMS: Record<Variant, Transform | undefined> = {
  whole: (o: KubeObject) => o,
  default: undefined,
  strict: keepPaths(['spec.replicas', 'status']),
};

/**
 * One measurement, in a fresh process so nothing of an earlier one is left on the heap: warm
 * the code paths up on a small list, take the baseline, fill the cache, take the heap again.
 */
async function measureHere(kubeconfig: string, variant: Variant): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new RestClient(kc);
  const logger = pino({ level: 'silent' });
  const warm = new Informer({ resource: NAMESPACES, client, logger, ...(TRANSFORMS[variant] ? { transform: TRANSFORMS[variant] } : {}) });
  warm.start();
  await warm.whenSynced();
  await warm.stop();
  const before = heapUsed();
  const informer = new Informer({
    resource: WORKLOAD_RESOURCES.Deployment,
    client,
    logger,
    namespaces: ['memory'],
    ...(TRANSFORMS[variant] ? { transform: TRANSFORMS[variant] } : {}),
  });
  informer.start();
  await informer.whenSynced();
  await informer.stop();
  const after = heapUsed();
  const size = informer.cache.size;
  process.stdout.write(
    `${JSON.stringify({ variant, objects: size, bytesPerObject: Math.round((after - before) / size), json: JSON.stringify(informer.cache.list()[0]).length })}\n`,
  );
}

function measureInChild(kubeconfig: string, variant: Variant): Promise<{ bytesPerObject: number; json: number; objects: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', import.meta.filename, '--measure', variant, kubeconfig], (err, stdout, stderr) => {
      if (err) return reject(new Error(`measurement failed: ${stderr}`));
      resolve(JSON.parse(stdout.trim()) as { bytesPerObject: number; json: number; objects: number });
    });
  });
}

if (process.argv[2] === '--measure') {
  await measureHere(process.argv[4]!, process.argv[3] as Variant);
  process.exit(0);
}

const plane = await ControlPlane.start();
try {
  const kc = planeKubeConfig(plane);
  const apps = kc.makeApiClient(AppsV1Api);
  await plane.kubectl(['create', 'namespace', 'memory']);
  const started = Date.now();
  await inBatches([...Array(count).keys()], 25, (i) => apps.createNamespacedDeployment({ namespace: 'memory', body: deployment(i) }));
  await inBatches([...Array(count).keys()], 25, (i) =>
    apps.patchNamespacedDeploymentStatus({
      name: `svc-${i}`,
      namespace: 'memory',
      fieldManager: 'workload-simulator',
      body: [
        {
          op: 'add',
          path: '/status',
          value: {
            observedGeneration: 1,
            replicas: 3,
            readyReplicas: 3,
            availableReplicas: 3,
            updatedReplicas: 3,
            conditions: [
              {
                type: 'Available',
                status: 'True',
                reason: 'MinimumReplicasAvailable',
                lastTransitionTime: new Date().toISOString(),
                lastUpdateTime: new Date().toISOString(),
                message: 'Deployment has minimum availability.',
              },
            ],
          },
        },
      ],
    }),
  );
  process.stderr.write(`created ${count} Deployments with status in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  const names: Record<Variant, string> = {
    whole: 'whole object (no transform)',
    default: 'without managedFields (the default transform)',
    strict: 'only spec.replicas and status (keepPaths)',
  };
  for (const variant of ['whole', 'default', 'strict'] as const) {
    const runs = [
      await measureInChild(plane.kubeconfigPath, variant),
      await measureInChild(plane.kubeconfigPath, variant),
      await measureInChild(plane.kubeconfigPath, variant),
    ];
    if (runs.some((r) => r.objects !== count)) throw new Error(`expected ${count} cached objects, got ${runs.map((r) => r.objects).join(', ')}`);
    const perObject = runs.map((r) => r.bytesPerObject).sort((a, b) => a - b);
    process.stdout.write(
      `${names[variant].padEnd(48)} median ${String(perObject[1]).padStart(6)} B/object on the heap (runs: ${perObject.join(', ')}; ${runs[0]!.json} B as JSON)\n`,
    );
  }
} finally {
  await plane.stop();
}
