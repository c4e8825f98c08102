/** The examples/ directory as a World, through the command line's own buildWorld. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildWorld } from '../../../src/cli/cluster.ts';
import type { KubeObject } from '../../../src/k8s/object.ts';
import type { World } from '../../../src/reconcilers/world.ts';

const EXAMPLES = join(import.meta.dirname, '../../../examples');

function objectsIn(dir: string): KubeObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject));
}

export function examplesWorld(): World {
  const all = [...objectsIn(EXAMPLES), ...objectsIn(join(EXAMPLES, 'catalog')), ...objectsIn(join(EXAMPLES, 'workloads'))];
  const of = (kind: string) => all.filter((o) => o.kind === kind);
  return buildWorld({
    entities: { Component: of('Component'), System: of('System'), Resource: of('Resource'), API: of('API'), Group: of('Group'), Domain: of('Domain') },
    workloads: { Deployment: of('Deployment'), StatefulSet: of('StatefulSet'), DaemonSet: of('DaemonSet'), CronJob: of('CronJob'), Service: of('Service') },
    namespaces: of('Namespace'),
  });
}
