/**
 * `backlot orphans`: the workloads no entity claims, computed as the operator computes its
 * `backlot_orphaned_workload` metric.
 */
import { DEFAULT_EXCLUDED_NAMESPACES } from '../reconcilers/survey.ts';
import type { Command } from './command.ts';
import { CLUSTER_FLAGS, CLUSTER_FLAGS_HELP, readCluster, scopeText } from './cluster.ts';
import { commandHelp, outputFlag, outputFlagSpec, parseFlags, type FlagSpec } from './flags.ts';
import { formatData, formatTable } from './output.ts';
import { orphanReport } from './reports.ts';

const FLAGS: readonly FlagSpec[] = [
  outputFlagSpec('table (default), json or yaml'),
  {
    name: 'exclude-namespaces',
    type: 'string',
    value: 'NS,...',
    help: `namespaces whose workloads are never orphans (default: ${DEFAULT_EXCLUDED_NAMESPACES.join(',')})`,
  },
];

const HELP = commandHelp({
  usage: 'backlot orphans [flags]',
  description: `
Lists the Deployments, StatefulSets, DaemonSets, CronJobs and Services that no catalog
entity claims, with the owner their Namespace names (labels backlot.dev/owner and
backlot.dev/owner-namespace; the owner's namespace defaults to the Namespace's), the same way
the operator's backlot_orphaned_workload metric counts them. Workloads labelled or annotated
backlot.dev/ignore: "true", and those controlled by another object, are never orphans.`,
  examples: `
  # Orphans in the current namespace
  backlot orphans

  # In every namespace, as JSON for a script
  backlot orphans -A -o json | jq -r '.items[] | "\\(.namespace)/\\(.name)"'

  # As a kubectl plugin, in one namespace of another cluster
  kubectl backlot orphans -n shop --context staging`,
  flags: FLAGS,
  moreFlags: [CLUSTER_FLAGS_HELP],
});

export const orphansCommand: Command = {
  name: 'orphans',
  summary: 'List the workloads no catalog entity claims',
  async run(argv, io) {
    const flags = parseFlags(argv, [...FLAGS, ...CLUSTER_FLAGS], { command: 'orphans' });
    if (flags.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const output = outputFlag(flags, ['table', 'json', 'yaml'] as const, 'table');
    const excludeFlag = flags.strings.get('exclude-namespaces');
    const excluded = new Set(
      excludeFlag === undefined
        ? DEFAULT_EXCLUDED_NAMESPACES
        : excludeFlag
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
    );
    const { conn, world } = await readCluster(flags, io, { workloads: true, namespaces: true });
    const rows = orphanReport(world, excluded);
    if (output !== 'table') {
      io.stdout.write(formatData(output, { items: rows }));
      return 0;
    }
    if (rows.length === 0) {
      io.stderr.write(`No orphaned workloads found ${scopeText(conn)}.\n`);
      return 0;
    }
    const all = conn.namespace === undefined;
    const headers = [...(all ? ['NAMESPACE'] : []), 'KIND', 'NAME', 'NAMESPACE OWNER'];
    io.stdout.write(
      formatTable(
        headers,
        rows.map((o) => [...(all ? [o.namespace] : []), o.kind, o.name, o.namespaceOwner === '' ? '' : `${o.namespaceOwnerNamespace}/${o.namespaceOwner}`]),
      ),
    );
    return 0;
  },
};
