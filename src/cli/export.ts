/**
 * `backlot export`: the cluster's catalog as Backstage catalog descriptors on standard output.
 * See docs/backstage.md for the mapping and what a round trip normalises.
 */
import { renderCatalogInfo } from '../interop/export.ts';
import { BACKSTAGE_NAMESPACE } from '../interop/backstage.ts';
import { UsageError, type Command } from './command.ts';
import { allEntities, CLUSTER_FLAGS, CLUSTER_FLAGS_HELP, readCluster, scopeText } from './cluster.ts';
import { commandHelp, parseFlags, type FlagSpec } from './flags.ts';

const FLAGS: readonly FlagSpec[] = [
  { name: 'default-namespace', type: 'string', value: 'NS', help: "the Kubernetes namespace written as Backstage's default namespace (default: default)" },
];

const HELP = commandHelp({
  usage: 'backlot export [flags]',
  description: `
Prints the catalog of the cluster as Backstage catalog descriptors (apiVersion
backstage.io/v1alpha1, one document per entity), for Backstage to register as a location.
References are canonical (kind:namespace/name), names changed by backlot import are given
back, and Components and Resources carry backstage.io/kubernetes-id (and
backstage.io/kubernetes-label-selector when they claim by another selector), so Backstage's
Kubernetes plugin shows the workloads Backlot matched. See docs/backstage.md.`,
  examples: `
  # The whole catalog
  backlot export -A > catalog-info.yaml

  # One namespace, which Backstage is to see as its default namespace
  backlot export -n shop --default-namespace shop

  # As a kubectl plugin, from another cluster
  kubectl backlot export -A --context prod > catalog-info.yaml`,
  flags: FLAGS,
  moreFlags: [CLUSTER_FLAGS_HELP],
});

export const exportCommand: Command = {
  name: 'export',
  summary: "Print the cluster's catalog as Backstage catalog-info.yaml",
  async run(argv, io) {
    const flags = parseFlags(argv, [...FLAGS, ...CLUSTER_FLAGS], { command: 'export' });
    if (flags.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const defaultNamespace = flags.strings.get('default-namespace') ?? 'default';
    if (!BACKSTAGE_NAMESPACE.test(defaultNamespace))
      throw new UsageError(`--default-namespace "${defaultNamespace}" is not a Kubernetes namespace name (a DNS label such as shop)`);
    const { conn, world } = await readCluster(flags, io, {});
    const entities = allEntities(world);
    if (entities.length === 0) {
      io.stderr.write(`No catalog entities found ${scopeText(conn)}.\n`);
      return 0;
    }
    io.stdout.write(renderCatalogInfo(entities, { defaultNamespace, onProblem: (p) => io.stderr.write(`warning: ${p.entity}: ${p.message}\n`) }));
    return 0;
  },
};
