/**
 * What API definitions cost the operator's heap: starts a local control plane, creates N APIs
 * (200 by default) that each carry a definition of 1 MiB (the most the CRD takes), written
 * with server-side apply as `kubectl apply --server-side` would, then, in a fresh child
 * process each time, runs the catalog's informers until they have synced and reports the
 * heap used after a full collection; then serves /catalog-info.yaml twice through its
 * handler, with the time each request took and the heap with the handler (and whatever it
 * keeps) alive. Three children; the medians are printed. docs/benchmarks.md has the figures.
 *
 *   node --expose-gc scripts/measure-api-definitions.ts [N]
 *
 * It measures the code of the checkout it is run from: copy it into another checkout (an
 * earlier commit, say) to measure that one.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ControlPlane } from '../src/envtest/controlplane.ts';
import { NAMESPACES } from '../src/k8s/resource.ts';
import { RestClient } from '../src/k8s/rest.ts';
import { catalogInfoHandler } from '../src/interop/catalog-info.ts';
import { createCatalogInformers } from '../src/reconcilers/informers.ts';
import { InformerFactory } from '../src/runtime/factory.ts';
import { EntityParser } from '../src/reconcilers/entities.ts';
import { Informer } from '../src/runtime/informer.ts';
import { median } from './bench-util.ts';

const ROOT = join(import.meta.dirname, '..');
const NAMESPACE = 'definitions';
const DEFINITION_BYTES = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

interface Measurement {
  apis: number;
  /** Heap used after a full collection: before the informers, with them synced, with the served catalog's handler after two requests. */
  baseline: number;
  cached: number;
  served: number;
  firstRequestMs: number;
  secondRequestMs: number;
  bodyBytes: number;
}

function heapUsed(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

/** An OpenAPI document of exactly `bytes` characters, different for every API (so no two share a string). */
function definition(api: number, bytes: number): string {
  let text = `openapi: 3.1.0\ninfo:\n  title: API ${api}\n  version: 1.0.${api}\npaths:\n`;
  for (let path = 0; text.length < bytes; path++) {
    text += `  /api-${api}/resources-${path}/{id}:\n    get:\n      operationId: get-${api}-${path}\n      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n      responses: {'200': {description: the resource ${path} of API ${api}}}\n`;
  }
  return text.slice(0, bytes);
}

async function createApis(kubeconfig: string, count: number): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new RestClient(kc);
  const apply = (i: number) =>
    client.request({
      method: 'PATCH',
      path: `/apis/catalog.backlot.dev/v1alpha1/namespaces/${NAMESPACE}/apis/api-${i}`,
      query: { fieldManager: 'kubectl', force: true },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'catalog.backlot.dev/v1alpha1',
        kind: 'API',
        metadata: { name: `api-${i}`, namespace: NAMESPACE },
        spec: { type: 'openapi', lifecycle: 'production', owner: 'team-a', definition: definition(i, DEFINITION_BYTES) },
      },
      timeoutMs: 120_000,
    });
  for (let i = 0; i < count; i += 5) await Promise.all(Array.from({ length: Math.min(5, count - i) }, (_, k) => apply(i + k)));
}

/** One measurement, in a process of its own so that nothing of an earlier one is on the heap. */
async function measureHere(kubeconfig: string): Promise<Measurement> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new RestClient(kc);
  const logger = pino({ level: 'silent' });
  // Warm the list/watch code paths up first, so that compiling them is not counted.
  const warm = new Informer({ resource: NAMESPACES, client, logger });
  warm.start();
  await warm.whenSynced();
  await warm.stop();

  const baseline = heapUsed();
  const factory = new InformerFactory({ client, logger });
  const informers = createCatalogInformers((request) => factory.informer(request), new EntityParser());
  for (const informer of informers.all) informer.start();
  await Promise.all(informers.all.map((i) => i.whenSynced()));
  const cached = heapUsed();

  const handler = catalogInfoHandler(informers, { defaultNamespace: 'default', synced: () => true });
  let bodyBytes = 0;
  const request = () => {
    const started = performance.now();
    const res = { writeHead: () => res, end: (body?: string) => void (bodyBytes = body?.length ?? 0) };
    (handler as (req: unknown, res: unknown) => void)({ method: 'GET', headers: {}, url: '/catalog-info.yaml' }, res);
    return performance.now() - started;
  };
  const firstRequestMs = request();
  const secondRequestMs = request();
  const served = heapUsed();
  await Promise.all(informers.all.map((i) => i.stop()));
  return { apis: informers.caches.entities.API.size, baseline, cached, served, firstRequestMs, secondRequestMs, bodyBytes };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const size = (bytes: number) => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : mib(bytes));

if (process.argv[2] === '--measure') {
  process.stdout.write(`${JSON.stringify(await measureHere(process.argv[3]!))}\n`);
  process.exit(0);
}

const count = Number(process.argv[2] ?? 200);
const plane = await ControlPlane.start();
try {
  await plane.kubectl(['apply', '--server-side', '-f', join(ROOT, 'crds')]);
  await plane.kubectl(['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
  await plane.kubectl(['create', 'namespace', NAMESPACE]);
  const started = Date.now();
  await createApis(plane.kubeconfigPath, count);
  process.stderr.write(`created ${count} APIs with a ${mib(DEFINITION_BYTES)} definition each in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  const runs: Measurement[] = [];
  for (let i = 0; i < 3; i++) {
    // Without bytecode flushing, the collections do not also drop the code the warm-up compiled.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--no-flush-bytecode', import.meta.filename, '--measure', plane.kubeconfigPath],
      { maxBuffer: 1024 * 1024 },
    );
    const run = JSON.parse(stdout.trim()) as Measurement;
    if (run.apis !== count) throw new Error(`expected ${count} cached APIs, got ${run.apis}`);
    runs.push(run);
  }
  const figure = (f: (m: Measurement) => number) => median(runs.map(f));
  process.stdout.write(
    [
      `${count} APIs, a ${mib(DEFINITION_BYTES)} definition each; medians of ${runs.length} runs, heap used after a full collection:`,
      `  before the informers          ${mib(figure((m) => m.baseline))}`,
      `  entity caches synced          ${mib(figure((m) => m.cached))}  (${mib(figure((m) => m.cached - m.baseline))} over the baseline)`,
      `  after two /catalog-info.yaml  ${mib(figure((m) => m.served))}  (${mib(figure((m) => m.served - m.baseline))} over the baseline)`,
      `  /catalog-info.yaml: ${size(figure((m) => m.bodyBytes))} of YAML, first request ${figure((m) => m.firstRequestMs).toFixed(0)} ms, second ${figure((m) => m.secondRequestMs).toFixed(0)} ms`,
      `  runs (entity caches, MiB over the baseline): ${runs.map((m) => ((m.cached - m.baseline) / 1024 / 1024).toFixed(1)).join(', ')}`,
      '',
    ].join('\n'),
  );
} finally {
  await plane.stop();
}
