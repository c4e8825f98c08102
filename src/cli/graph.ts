/** `backlot graph`: the dependency graph of the catalog as Mermaid or Graphviz DOT. */
import { EntityRefError, parseEntityRef, stringifyEntityRef } from '../catalog/ref.ts';
import { buildGraph, renderDot, renderMermaid } from '../interop/graph.ts';
import { ENTITY_KINDS } from '../api/kinds.ts';
import { UsageError, type Command } from './command.ts';
import { ClusterError, CLUSTER_FLAGS, CLUSTER_FLAGS_HELP, namespaceRead, readCluster, scopeText } from './cluster.ts';
import { commandHelp, intFlag, outputFlag, outputFlagSpec, parseFlags, type FlagSpec } from './flags.ts';

const FLAGS: readonly FlagSpec[] = [
  outputFlagSpec('mermaid (default) or dot'),
  { name: 'apis', type: 'boolean', help: 'include APIs and the provides/consumes edges' },
  {
    name: 'from',
    type: 'string',
    value: 'REF',
    help: 'only what this entity leads to: [<kind>:][<namespace>/]<name>, the kind defaulting to component and the namespace to the one read',
  },
  { name: 'depth', type: 'string', value: 'N', help: 'with --from: at most N steps away (default: no limit)' },
];

const HELP = commandHelp({
  usage: 'backlot graph [flags]',
  description: `
Prints the dependency graph of the catalog: Components and Resources, with an arrow from
each to what it depends on (spec.dependsOn, and spec.dependencyOf read from the other side).
With --apis, APIs too, with dashed "provides" and "consumes" arrows. Entities referenced but
absent are drawn dashed and marked "(not found)"; those in namespaces that were not read,
"(not read)". Paste Mermaid into a Markdown file, or render DOT with Graphviz.`,
  examples: `
  # The graph of the current namespace, as Mermaid
  backlot graph

  # Everything checkout needs, two steps deep, with APIs, as an SVG
  backlot graph -n shop --from checkout --depth 2 --apis -o dot | dot -Tsvg > checkout.svg

  # The whole cluster, as a kubectl plugin
  kubectl backlot graph -A > catalog.mmd`,
  flags: FLAGS,
  moreFlags: [CLUSTER_FLAGS_HELP],
});

export const graphCommand: Command = {
  name: 'graph',
  summary: 'Print the dependency graph as Mermaid or DOT',
  async run(argv, io) {
    const flags = parseFlags(argv, [...FLAGS, ...CLUSTER_FLAGS], { command: 'graph' });
    if (flags.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const output = outputFlag(flags, ['mermaid', 'dot'] as const, 'mermaid');
    const depth = intFlag(flags, 'depth', 0);
    const fromFlag = flags.strings.get('from');
    if (depth !== undefined && fromFlag === undefined) throw new UsageError('--depth needs --from: it counts the steps from that entity');
    const apis = flags.booleans.get('apis') ?? false;
    const { conn, world } = await readCluster(flags, io, {});

    let from: string | undefined;
    if (fromFlag !== undefined) {
      try {
        from = stringifyEntityRef(parseEntityRef(fromFlag, { defaultNamespace: conn.namespace ?? 'default', defaultKind: 'component' }));
      } catch (err) {
        if (err instanceof EntityRefError) throw new UsageError(`--from: ${err.message}`);
        throw err;
      }
      if (!world.exists(from)) throw new ClusterError(`${from} is not in the catalog ${scopeText(conn)}: check the name, or read its namespace with -n or -A`);
      if (from.startsWith('api:') && !apis) throw new UsageError('--from names an API: add --apis to draw APIs');
    }
    const entities = ENTITY_KINDS.flatMap((kind) => world.caches.entities[kind].list().map((obj) => world.parsed(kind, obj)));
    const graph = buildGraph(entities, { apis, namespaceRead: namespaceRead(conn), ...(from ? { from } : {}), ...(depth !== undefined ? { depth } : {}) });
    if (graph.nodes.length === 0) io.stderr.write(`No components or resources found ${scopeText(conn)}.\n`);
    io.stdout.write(output === 'dot' ? renderDot(graph) : renderMermaid(graph));
    return 0;
  },
};
