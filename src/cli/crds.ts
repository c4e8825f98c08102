/**
 * `backlot crds`: prints the CustomResourceDefinitions, the same YAML as crds/, as one
 * multi-document stream, so `backlot crds | kubectl apply -f -` installs them.
 */
import { renderAllCrds } from '../api/crd.ts';
import { UsageError, type Command } from './command.ts';

const HELP = `Usage: backlot crds

Prints the CustomResourceDefinitions of the catalog.backlot.dev API (Component, System,
Resource, API, Group, Domain) as a multi-document YAML stream: the same text as crds/.

Examples:
  backlot crds | kubectl apply --server-side -f -
  backlot crds > backlot-crds.yaml

Flags:
  -h, --help   show this help
`;

export const crdsCommand: Command = {
  name: 'crds',
  summary: 'Print the CustomResourceDefinitions (the same YAML as crds/)',
  run(argv, io) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(HELP);
      return Promise.resolve(0);
    }
    if (argv.length > 0) return Promise.reject(new UsageError(`unexpected argument "${argv[0] ?? ''}": crds takes no arguments`));
    io.stdout.write(renderAllCrds());
    return Promise.resolve(0);
  },
};
