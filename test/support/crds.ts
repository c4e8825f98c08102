/**
 * Installs Backlot's CRDs on the shared control plane, and the example catalog.
 *
 * CRDs are cluster-scoped and every integration test file of a run shares the control plane,
 * so installing is idempotent (server-side apply under one field manager, safe when several
 * files do it at once) and nothing here ever deletes them. The same goes for the examples'
 * fixed namespaces: the control plane has no namespace controller, so a deleted namespace
 * would stay Terminating and break the next file that applies the examples.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_GROUP } from '../../src/api/common.ts';
import { KINDS } from '../../src/api/kinds.ts';
import type { KubectlResult } from '../../src/envtest/controlplane.ts';
import { kubeconfigPath, kubectl } from './cluster.ts';

export const REPO_ROOT = join(import.meta.dirname, '../..');
export const CRDS_DIR = join(REPO_ROOT, 'crds');
export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');

const FIELD_MANAGER = 'backlot-tests';

/** The names of Backlot's CRDs, e.g. components.catalog.backlot.dev. */
export const CRD_NAMES = KINDS.map((k) => `${k.plural}.${API_GROUP}`);

async function mustSucceed(args: string[]): Promise<string> {
  const result = await kubectl(args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** Waits until discovery serves every kind, which also refreshes kubectl's discovery cache. */
async function waitForDiscovery(timeoutMs: number): Promise<void> {
  const wanted = KINDS.map((k) => `${k.plural}.${API_GROUP}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const served = await kubectl(['api-resources', `--api-group=${API_GROUP}`, '-o', 'name']);
    const names = served.stdout.split('\n');
    if (served.code === 0 && wanted.every((w) => names.includes(w))) return;
    if (Date.now() > deadline) throw new Error(`discovery does not serve ${wanted.join(', ')} yet: ${served.stdout}${served.stderr}`);
    await sleep(200);
  }
}

/**
 * Applies crds/ and waits until every CRD is Established and served by discovery.
 * Returns the CRD names.
 */
export async function installCrds(options: { timeoutMs?: number } = {}): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  await mustSucceed(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', CRDS_DIR]);
  await mustSucceed(['wait', '--for=condition=Established', `--timeout=${Math.ceil(timeoutMs / 1000)}s`, ...CRD_NAMES.map((n) => `crd/${n}`)]);
  await waitForDiscovery(timeoutMs);
  return CRD_NAMES;
}

/**
 * Applies examples/ exactly as examples/README.md tells users to (client-side `kubectl apply`,
 * the namespaces first) and returns what the second command printed. Install the CRDs first.
 * Idempotent; the examples are never deleted.
 *
 * Several test files apply the examples to the shared control plane, each in a jest worker of
 * its own. They take turns: two kubectl processes that both find an object missing would both
 * create it, and one would fail with AlreadyExists. They also all apply the same way, so
 * kubectl never finds an object that another manager created without its annotation.
 */
export async function applyExamples(): Promise<KubectlResult> {
  return withExamplesLock(async () => {
    await mustSucceed(['apply', '-f', join(EXAMPLES_DIR, '00-namespaces.yaml')]);
    return kubectl(['apply', '-R', '-f', EXAMPLES_DIR]);
  });
}

/** A lock beside the shared plane's kubeconfig: mkdir is atomic, so one holder at a time. */
async function withExamplesLock<T>(body: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const lock = join(dirname(kubeconfigPath()), 'examples.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) throw new Error(`${lock} has been held for ${timeoutMs / 1000} s: remove it if no test run is going`, { cause: err });
      await sleep(100);
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
