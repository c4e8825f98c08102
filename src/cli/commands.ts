/** The registry of `backlot` subcommands, in the order `backlot --help` lists them. */
import type { Command } from './command.ts';
import { crdsCommand } from './crds.ts';

export const commands: readonly Command[] = [crdsCommand];
