/**
 * The shape every `backlot` subcommand has. Commands get their streams and environment
 * passed in, never read process globals, so tests run them in-process.
 */
export interface CommandIo {
  /** Standard input, for commands that read `-`; absent where there is none to read. */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop when it fires. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `backlot --help`. */
  summary: string;
  /** Returns the process exit code: 0 success, 1 failure, 2 usage error. */
  run(argv: string[], io: CommandIo): Promise<number>;
}

/** A usage error: the command line itself is wrong. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
