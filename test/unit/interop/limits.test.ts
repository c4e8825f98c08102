/**
 * What import and export refuse to read past: a file over MAX_IMPORT_FILE_BYTES, more than
 * MAX_IMPORT_DOCUMENTS in one import, a backlot.dev/backstage-fields annotation over
 * BACKSTAGE_FIELDS_MAX_BYTES. Each is refused with a message that says which limit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCommand } from '../../../src/cli/import.ts';
import { BACKSTAGE_FIELDS_ANNOTATION, BACKSTAGE_FIELDS_MAX_BYTES } from '../../../src/interop/backstage.ts';
import { exportBackstage, type ExportProblem } from '../../../src/interop/export.ts';
import { importBackstage, MAX_IMPORT_DOCUMENTS, MAX_IMPORT_FILE_BYTES } from '../../../src/interop/import.ts';
import { parseDocuments } from '../../../src/interop/yaml.ts';
import { capture } from '../cli/io.ts';

const user = (i: number) => `apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: u${i}}\nspec: {}\n`;
const users = (from: number, count: number) => Array.from({ length: count }, (_, i) => user(from + i)).join('---\n');

describe('backlot import limits', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'backlot-limits-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(`refuses a file over ${MAX_IMPORT_FILE_BYTES / 1024 / 1024} MiB, and standard input too, printing nothing`, async () => {
    const big = join(dir, 'big.yaml');
    const text = `${user(0)}# ${'x'.repeat(MAX_IMPORT_FILE_BYTES)}\n`;
    writeFileSync(big, text);
    for (const [args, stdin, name] of [
      [[big], undefined, big],
      [['-'], text, '<stdin>'],
    ] as const) {
      const { io, stdout, stderr } = capture(stdin === undefined ? {} : { stdin });
      expect(await importCommand.run([...args], io)).toBe(1);
      expect(stdout()).toBe('');
      expect(stderr()).toContain(`  ${name}: larger than 8 MiB, the most import reads from one file: split it into several files\n`);
    }
  });

  it('reads a file of exactly the limit', async () => {
    const edge = join(dir, 'edge.yaml');
    const head = user(0);
    writeFileSync(edge, `${head}#${'x'.repeat(MAX_IMPORT_FILE_BYTES - head.length - 2)}\n`);
    const { io, stderr } = capture();
    expect(await importCommand.run([edge], io)).toBe(0);
    expect(stderr()).toContain('Skipped 1 document of kinds Backlot does not model: User 1.');
  });

  it(`refuses more than ${MAX_IMPORT_DOCUMENTS} documents over all the files, naming the file where it stopped`, async () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, users(0, 6_000));
    writeFileSync(b, users(6_000, 4_001));
    const { io, stdout, stderr } = capture();
    expect(await importCommand.run([a, b], io)).toBe(1);
    expect(stdout()).toBe('');
    expect(stderr()).toContain(
      `  ${b}: more than 10,000 documents in one import (the most it reads): import the catalog in parts, each with what it refers to\n`,
    );
  });

  it(`reads ${MAX_IMPORT_DOCUMENTS} documents, empty ones not counted`, async () => {
    const a = join(dir, 'full.yaml');
    writeFileSync(a, `---\n---\n${users(0, MAX_IMPORT_DOCUMENTS)}---\n`);
    const { io, stderr } = capture();
    expect(await importCommand.run([a], io)).toBe(0);
    expect(stderr()).toContain(`Skipped 10000 documents of kinds Backlot does not model: User 10000.`);
  });
});

describe('parseDocuments', () => {
  it('stops before the document past maxDocuments, and says so', () => {
    const parsed = parseDocuments('f.yaml', users(0, 5), { maxDocuments: 3 });
    expect([parsed.read, parsed.truncated, parsed.documents.map((d) => d.index)]).toEqual([3, true, [0, 1, 2]]);
    expect(parseDocuments('f.yaml', `${users(0, 3)}---\n`, { maxDocuments: 3 }).truncated).toBe(false);
  });

  it.each([
    ['an alias to no anchor', 'a: *nowhere\n', 'Unresolved alias'],
    [
      'an alias bomb',
      ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefg'[i]!}`).join(', ')}]`)].join('\n'),
      'resource exhaustion',
    ],
  ])('turns %s into a problem of its document, never an exception', (_title, text, message) => {
    const parsed = parseDocuments('f.yaml', `${user(0)}---\n${text}`);
    expect(parsed.documents.map((d) => d.index)).toEqual([0]);
    expect(parsed.problems).toEqual([{ file: 'f.yaml', index: 1, message: expect.stringContaining(message) as unknown }]);
  });
});

describe(`the ${BACKSTAGE_FIELDS_ANNOTATION} annotation limit`, () => {
  const component = (extra: Record<string, unknown>) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'big' },
    spec: { type: 'service', lifecycle: 'production', owner: 'team-a', ...extra },
  });

  it('import refuses fields to keep that would take more than 64 KiB, and keeps those that fit', () => {
    const notes = 'x'.repeat(BACKSTAGE_FIELDS_MAX_BYTES);
    const over = importBackstage([{ file: 'f.yaml', index: 0, value: component({ notes }) }], { defaultNamespace: 'default' });
    expect(over.objects).toEqual([]);
    const bytes = JSON.stringify({ 'spec.notes': notes }).length;
    expect(over.errors.map((e) => e.message)).toEqual([
      `the fields Backlot does not model take ${bytes.toLocaleString('en')} bytes as JSON, more than the 64 KiB the annotation ${BACKSTAGE_FIELDS_ANNOTATION} keeps: shorten or remove them`,
    ]);
    const fits = importBackstage([{ file: 'f.yaml', index: 0, value: component({ notes: 'x'.repeat(BACKSTAGE_FIELDS_MAX_BYTES - 100) }) }], {
      defaultNamespace: 'default',
    });
    expect(fits.errors).toEqual([]);
  });

  it('export restores nothing of an annotation over 64 KiB, and reports it', () => {
    const problems: ExportProblem[] = [];
    const entity = (fields: Record<string, unknown>) => ({
      kind: 'System',
      metadata: { name: 'shop', namespace: 'a', annotations: { [BACKSTAGE_FIELDS_ANNOTATION]: JSON.stringify(fields) } },
      spec: { owner: 'team-a' },
    });
    // Counted in bytes of UTF-8: half as many two-byte characters are over the limit too.
    const fields = { 'spec.type': 'x', 'spec.notes': 'é'.repeat(BACKSTAGE_FIELDS_MAX_BYTES / 2) };
    const [over] = exportBackstage([entity(fields)], { defaultNamespace: 'default', onProblem: (p) => problems.push(p) });
    expect(over?.spec).toEqual({ owner: 'group:a/team-a' });
    const bytes = Buffer.byteLength(JSON.stringify(fields));
    expect(problems).toEqual([
      {
        entity: 'system:a/shop',
        message: `${BACKSTAGE_FIELDS_ANNOTATION}: not restored: ${bytes.toLocaleString('en')} bytes, more than the 64 KiB export restores`,
      },
    ]);
    const [fits] = exportBackstage([entity({ 'spec.type': 'x' })], { defaultNamespace: 'default' });
    expect(fits?.spec).toEqual({ owner: 'group:a/team-a', type: 'x' });
  });
});
