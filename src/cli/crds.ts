/**
 * `backlot crds`: prints the CustomResourceDefinitions, the same YAML as crds/, as one
 * multi-document stream, so `backlot crds | kubectl apply -f -` installs them.
 */
import { renderAllCrds } from '../api/crd.ts';
import type { Command } from './command.ts';
import { commandHelp, parseFlags } from './flags.ts';

const HELP = commandHelp({
  usage: 'backlot crds',
  description: `
Prints the CustomResourceDefinitions of the catalog.backlot.dev API (Component, System,
Resource, API, Group, Domain) as a multi-document YAML stream: the same text as crds/.`,
  examples: `
  backlot crds | kubectl apply --server-side -f -
  backlot crds > backlot-crds.yaml`,
  flags: [],
});

export const crdsCommand: Command = {
  name: 'crds',
  summary: 'Print the CustomResourceDefinitions (the same YAML as crds/)',
  run(argv, io) {
    // A usage error rejects, as from every other command.
    return Promise.resolve().then(() => {
      io.stdout.write(parseFlags(argv, [], { command: 'crds' }).help ? HELP : renderAllCrds());
      return 0;
    });
  },
};
