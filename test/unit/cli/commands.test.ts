import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../../../src/cli/command.ts';
import { commands } from '../../../src/cli/commands.ts';
import { exportCommand } from '../../../src/cli/export.ts';
import { graphCommand } from '../../../src/cli/graph.ts';
import { importCommand } from '../../../src/cli/import.ts';
import { main } from '../../../src/cli/main.ts';
import { orphansCommand } from '../../../src/cli/orphans.ts';
import { ownersCommand } from '../../../src/cli/owners.ts';
import { capture } from './io.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/backstage');
const CORPUS = join(FIXTURES, 'corpus');
const NEW_COMMANDS = [importCommand, exportCommand, orphansCommand, ownersCommand, graphCommand];

describe('the commands', () => {
  it('are registered', () => {
    for (const c of NEW_COMMANDS) expect(commands).toContain(c);
  });

  it.each(NEW_COMMANDS.map((c) => [c.name, c] as const))('%s has a --help with usage, examples and flags', async (name, command) => {
    for (const flag of ['--help', '-h']) {
      const { io, stdout } = capture();
      expect(await command.run([flag], io)).toBe(0);
      expect(stdout()).toMatch(new RegExp(`^Usage: backlot ${name} `));
      expect(stdout()).toContain('Examples:');
      expect(stdout()).toContain(`backlot ${name}`);
      expect(stdout()).toContain('-h, --help');
    }
  });

  it.each([
    [exportCommand, ['extra'], 'unexpected argument "extra": export takes flags only'],
    [orphansCommand, ['-o', 'wide'], 'unsupported output format "wide": use one of table, json, yaml'],
    [ownersCommand, ['--nope'], 'unknown flag "--nope"'],
    [graphCommand, ['-o', 'png'], 'unsupported output format "png": use one of mermaid, dot'],
    [graphCommand, ['--depth', '2'], '--depth needs --from'],
    [importCommand, [], 'name at least one file, directory, or - for standard input'],
    [importCommand, ['--default-namespace', 'Not_A_Namespace', 'x.yaml'], '--default-namespace "Not_A_Namespace" is not a Kubernetes namespace name'],
    [exportCommand, ['--default-namespace', 'a.b'], '--default-namespace "a.b" is not a Kubernetes namespace name'],
  ])('%# refuses a bad command line before reading anything', async (command, argv, message) => {
    const { io } = capture({ env: { KUBECONFIG: '/nonexistent' } });
    await expect(command.run(argv, io)).rejects.toThrow(UsageError);
    await expect(command.run(argv, io)).rejects.toThrow(message);
  });

  it.each(['export', 'orphans', 'owners', 'graph'])('%s says where it looked when there is no kubeconfig, exit code 1', async (name) => {
    const { io, stderr } = capture({ env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
    expect(await main([name], io)).toBe(1);
    expect(stderr()).toBe(`backlot ${name}: no kubeconfig found at /nonexistent/kubeconfig (from KUBECONFIG): pass --kubeconfig PATH or set KUBECONFIG\n`);
  });
});

describe('backlot import', () => {
  it('imports the corpus directory: resources on stdout, a summary on stderr', async () => {
    const { io, stdout, stderr } = capture();
    expect(await importCommand.run(['--default-namespace', 'travel', CORPUS], io)).toBe(0);
    const docs = parseAllDocuments(stdout()).map((d) => d.toJS() as { apiVersion: string; kind: string });
    expect(docs).toHaveLength(23);
    expect(new Set(docs.map((d) => d.apiVersion))).toEqual(new Set(['catalog.backlot.dev/v1alpha1']));
    const lines = stderr().split('\n');
    expect(lines[0]).toBe('Imported 23 entities from 7 files (30 documents): Group 4, Domain 2, System 3, Component 7, Resource 3, API 4.');
    expect(lines[1]).toBe('Renamed 6 entities (the original name is kept in the annotation backlot.dev/backstage-name):');
    expect(lines).toContain('  component:default/Booking_API_Service → component:travel/booking-api-service');
    expect(lines).toContain('Skipped 7 documents of kinds Backlot does not model: Location 2, Template 1, User 4.');
    expect(lines).toContain('4 warnings:');
  });

  it('reads standard input for -, to the same result as the files', async () => {
    const text = readFileSync(join(CORPUS, 'org.yaml'), 'utf8') + '---\n' + readFileSync(join(CORPUS, 'domains.yaml'), 'utf8');
    const fromStdin = capture({ stdin: text });
    expect(await importCommand.run(['-'], fromStdin.io)).toBe(0);
    const fromFiles = capture();
    expect(await importCommand.run([join(CORPUS, 'org.yaml'), join(CORPUS, 'domains.yaml')], fromFiles.io)).toBe(0);
    expect(fromStdin.stdout()).toBe(fromFiles.stdout());
    expect(fromStdin.stderr()).toMatch(/^Imported 6 entities from 1 file \(10 documents\): Group 4, Domain 2\.\n/);
  });

  it('prints the namespaces first with --create-namespaces', async () => {
    const { io, stdout } = capture();
    expect(await importCommand.run(['--create-namespaces', '--default-namespace', 'travel', CORPUS], io)).toBe(0);
    const docs = parseAllDocuments(stdout()).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(docs.slice(0, 2)).toEqual([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'travel' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'travel-infra' } },
    ]);
  });

  it('prints nothing on stdout and exits 1 when a document is invalid, listing every problem', async () => {
    const { io, stdout, stderr } = capture();
    const mistakes = join(FIXTURES, 'invalid', 'mistakes.yaml');
    expect(await importCommand.run([join(CORPUS, 'org.yaml'), mistakes], io)).toBe(1);
    expect(stdout()).toBe('');
    expect(stderr()).toMatch(/^Nothing was imported: 9 problems from 2 files \(17 documents\):\n/);
    expect(stderr()).toContain(`  ${mistakes}, document 2 (component:default/orders): spec.dependsOn[0]: dependsOn entry "orders-db" needs a kind`);
  });

  it('exits 1 for a file it cannot read', async () => {
    const { io, stdout, stderr } = capture();
    expect(await importCommand.run(['/nonexistent/catalog-info.yaml'], io)).toBe(1);
    expect(stdout()).toBe('');
    expect(stderr()).toContain('/nonexistent/catalog-info.yaml: cannot read it: no such file or directory');
  });
});
