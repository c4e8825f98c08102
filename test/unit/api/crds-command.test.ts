import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { crdFiles } from '../../../src/api/crd.ts';
import { UsageError, type CommandIo } from '../../../src/cli/command.ts';
import { commands } from '../../../src/cli/commands.ts';
import { crdsCommand } from '../../../src/cli/crds.ts';

function capture(): { io: CommandIo; stdout: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const io: CommandIo = { stdout: out, stderr: new PassThrough(), env: {}, signal: new AbortController().signal };
  return { io, stdout: () => Buffer.concat(chunks).toString('utf8') };
}

describe('backlot crds', () => {
  it('is registered', () => {
    expect(commands).toContain(crdsCommand);
  });

  it('prints the files of crds/ as one multi-document stream', async () => {
    const { io, stdout } = capture();
    expect(await crdsCommand.run([], io)).toBe(0);
    const files = await Promise.all([...crdFiles().keys()].map((name) => readFile(join(import.meta.dirname, '../../../crds', name), 'utf8')));
    expect(stdout()).toBe(files.join('---\n'));
    const docs = parseAllDocuments(stdout()).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(docs.map((d) => [d.kind, d.metadata.name])).toEqual([
      ['CustomResourceDefinition', 'components.catalog.backlot.dev'],
      ['CustomResourceDefinition', 'systems.catalog.backlot.dev'],
      ['CustomResourceDefinition', 'resources.catalog.backlot.dev'],
      ['CustomResourceDefinition', 'apis.catalog.backlot.dev'],
      ['CustomResourceDefinition', 'groups.catalog.backlot.dev'],
      ['CustomResourceDefinition', 'domains.catalog.backlot.dev'],
    ]);
  });

  it('has a --help', async () => {
    const { io, stdout } = capture();
    expect(await crdsCommand.run(['--help'], io)).toBe(0);
    expect(stdout()).toContain('Usage: backlot crds');
    expect(stdout()).toContain('kubectl apply');
  });

  it('refuses arguments as a usage error', async () => {
    const { io } = capture();
    await expect(crdsCommand.run(['components'], io)).rejects.toThrow(UsageError);
  });
});
