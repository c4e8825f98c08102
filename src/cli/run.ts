/** `backlot run`: the operator. */
import type { Command } from './command.ts';
import { loadRunConfig, runUsage } from './run-config.ts';
import { runOperator } from '../main.ts';
import { registrations } from '../registrations.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run the operator: watch, reconcile while leading, serve metrics and probes',
  async run(argv, io) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(runUsage());
      return 0;
    }
    const config = loadRunConfig({ argv, env: io.env });
    return runOperator({ config, io, registrations: registrations(config) });
  },
};
