/** In-process command I/O for tests: captured stdout and stderr, an optional stdin. */
import { PassThrough, Readable } from 'node:stream';
import type { CommandIo } from '../../../src/cli/command.ts';

export interface Captured {
  io: CommandIo;
  stdout: () => string;
  stderr: () => string;
}

export function capture(options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Captured {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const io: CommandIo = {
    stdout: out,
    stderr: err,
    env: options.env ?? {},
    signal: new AbortController().signal,
    ...(options.stdin !== undefined ? { stdin: Readable.from([options.stdin]) } : {}),
  };
  return { io, stdout: () => Buffer.concat(o).toString('utf8'), stderr: () => Buffer.concat(e).toString('utf8') };
}
