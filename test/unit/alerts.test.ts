/**
 * The shipped alert rules, checked and unit-tested by promtool (Debian's prometheus package;
 * .ci/run installs it). The cases live in test/alerts/*.test.yaml.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const RULES = join(root, 'deploy/alerts/backlot.rules.yaml');
const CASES = join(root, 'test/alerts');

async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: CASES });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string; code?: number | string };
    if (e.code === 'ENOENT') throw new Error('promtool is not installed: apt-get install prometheus (Debian), as .ci/run does', { cause: err });
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('alert rules', () => {
  it('are valid rules', async () => {
    const result = await promtool(['check', 'rules', RULES]);
    expect(result.output).toContain('SUCCESS: 6 rules found');
    expect(result.code).toBe(0);
  });

  it('pass every promtool case', async () => {
    const files = (await readdir(CASES)).filter((f) => f.endsWith('.test.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const result = await promtool(['test', 'rules', ...files]);
    expect(result.output).not.toContain('FAILED');
    expect(result.code).toBe(0);
  });
});
