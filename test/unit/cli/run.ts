/**
 * Runs the `backlot` executable as a user would, in a process of its own, with Node from
 * node_modules (the one that strips TypeScript types): for tests against a real API server.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '../../..');
export const NODE = join(REPO, 'node_modules/.bin/node');
export const MAIN = join(REPO, 'src/cli/main.ts');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args...`; resolves with the exit code and output, rejects only when it cannot start. */
export function runProcess(file: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env: options.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`could not run ${file}: ${err.message}`, { cause: err }));
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}

/** `backlot args...` with KUBECONFIG set (and nothing else of the test's environment that matters). */
export function backlot(args: readonly string[], options: { kubeconfig: string; input?: string }): Promise<RunResult> {
  return runProcess(NODE, [MAIN, ...args], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: options.kubeconfig },
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}
