/** `backlot owners`: who owns what, by team — the entities each group owns and the workloads they claim. */
import { parseEntityRef, stringifyEntityRef, EntityRefError } from '../catalog/ref.ts';
import { UsageError, type Command } from './command.ts';
import { CLUSTER_FLAGS, CLUSTER_FLAGS_HELP, namespaceRead, readCluster, scopeText } from './cluster.ts';
import { commandHelp, outputFlag, outputFlagSpec, parseFlags, type FlagSpec } from './flags.ts';
import { formatData, formatTable } from './output.ts';
import { ownersReport } from './reports.ts';

const FLAGS: readonly FlagSpec[] = [
  { name: 'owner', type: 'string', value: 'REF', help: 'only this group: [group:][<namespace>/]<name>, the namespace defaulting to the one read' },
  outputFlagSpec('table (default), json or yaml'),
];

const HELP = commandHelp({
  usage: 'backlot owners [flags]',
  description: `
Lists who owns what: for every owner group, the entities that name it in spec.owner and
the workloads each of those entities holds the claim to (the ones whose ownership the
operator writes). An owner group that does not exist is marked "(not found)".`,
  examples: `
  # Every team of the current namespace and what it owns
  backlot owners

  # One team, across the cluster
  backlot owners -A --owner group:shop/team-payments

  # As YAML, as a kubectl plugin
  kubectl backlot owners -A -o yaml`,
  flags: FLAGS,
  moreFlags: [CLUSTER_FLAGS_HELP],
});

export const ownersCommand: Command = {
  name: 'owners',
  summary: 'Show who owns what: entities and claimed workloads by owner group',
  async run(argv, io) {
    const flags = parseFlags(argv, [...FLAGS, ...CLUSTER_FLAGS], { command: 'owners' });
    if (flags.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const output = outputFlag(flags, ['table', 'json', 'yaml'] as const, 'table');
    const { conn, world } = await readCluster(flags, io, { workloads: true });
    let owner: string | undefined;
    const ownerFlag = flags.strings.get('owner');
    if (ownerFlag !== undefined) {
      try {
        owner = stringifyEntityRef(parseEntityRef(ownerFlag, { defaultNamespace: conn.namespace ?? 'default', defaultKind: 'group' }));
      } catch (err) {
        if (err instanceof EntityRefError) throw new UsageError(`--owner: ${err.message}`);
        throw err;
      }
    }
    const report = ownersReport(world, { namespaceRead: namespaceRead(conn), ...(owner ? { owner } : {}) });
    if (output !== 'table') {
      io.stdout.write(formatData(output, { items: report }));
      return 0;
    }
    if (report.length === 0) {
      io.stderr.write(`No owned entities found ${scopeText(conn)}${owner ? ` for ${owner}` : ''}.\n`);
      return 0;
    }
    const rows = report.flatMap((o) => o.entities.map((e) => [`${o.owner}${o.found === false ? ' (not found)' : ''}`, e.ref, e.workloads.join(', ')]));
    io.stdout.write(formatTable(['OWNER', 'ENTITY', 'WORKLOADS'], rows));
    return 0;
  },
};
