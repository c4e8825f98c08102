#!/usr/bin/env -S node --max-semi-space-size=16 --expose-gc
/**
 * The `backlot` executable (also installed as the kubectl plugin `kubectl-backlot`, so
 * `kubectl backlot <command>` works). Dispatches to a subcommand.
 *
 * The first line carries the V8 settings every way of running it shares (the image's
 * bin/backlot, the benchmark, the end-to-end tests): a young generation of at most 2 × 16 MiB.
 * Left alone, V8 sizes it from the machine's memory (up to 2 × 64 MiB), resident memory a
 * controller's short-lived garbage does not need. --expose-gc lets `backlot run` collect once
 * after a burst of work (src/runtime/idle-gc.ts).
 */
import { basename } from 'node:path';
import { UsageError, type CommandIo } from './command.ts';
import { commands } from './commands.ts';

function programName(argv1: string | undefined): string {
  return argv1 && basename(argv1).startsWith('kubectl-') ? 'kubectl backlot' : 'backlot';
}

export function usage(program: string): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    `Usage: ${program} <command> [flags]`,
    '',
    'Backlot keeps a Backstage-style software catalog inside Kubernetes: catalog entities are',
    'custom resources, and the operator writes ownership and dependency health onto workloads.',
    '',
    'Commands:',
    ...lines,
    '',
    `Run '${program} <command> --help' for a command's flags and examples.`,
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CommandIo, program = 'backlot'): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage(program));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`${program}: unknown command "${name}"\n\n${usage(program)}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${program} ${name}: ${err.message}\nRun '${program} ${name} --help' for usage.\n`);
      return 2;
    }
    io.stderr.write(`${program} ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * Runs the process as the `backlot` program: its arguments, standard streams and signals.
 * dist/backlot.mjs (the executable the build writes beside the bundle) calls this; so does
 * this module when it is itself the program (`node src/cli/main.ts`).
 */
export async function runAsProgram(): Promise<void> {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort(new Error(sig)));
  // A reader that goes away (`backlot export | head`) ends the output, not the process with a trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const code = await main(
    process.argv.slice(2),
    { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal },
    programName(process.argv[1]),
  );
  process.exitCode = code;
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.filename === (await import('node:fs')).realpathSync(process.argv[1]);
if (isEntryPoint) await runAsProgram();
