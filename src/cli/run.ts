/** `backlot run`: the operator. */
import type { Command } from './command.ts';
import { parseFlags } from './flags.ts';
import { loadRunConfig, RUN_FLAGS, runUsage } from './run-config.ts';
import { runOperator } from '../main.ts';
import { registrations } from '../registrations.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run the operator: watch, reconcile while leading, serve metrics and probes',
  async run(argv, io) {
    if (parseFlags(argv, RUN_FLAGS, { command: 'run' }).help) {
      io.stdout.write(runUsage());
      return 0;
    }
    const config = loadRunConfig({ argv, env: io.env });
    return runOperator({ config, io, registrations: registrations(config) });
  },
};
