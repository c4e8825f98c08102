/** The registry of `backlot` subcommands, in the order `backlot --help` lists them. */
import type { Command } from './command.ts';
import { crdsCommand } from './crds.ts';
import { exportCommand } from './export.ts';
import { graphCommand } from './graph.ts';
import { importCommand } from './import.ts';
import { orphansCommand } from './orphans.ts';
import { ownersCommand } from './owners.ts';
import { runCommand } from './run.ts';

export const commands: readonly Command[] = [runCommand, crdsCommand, importCommand, exportCommand, orphansCommand, ownersCommand, graphCommand];
