/**
 * crds/ and its copy in deploy/crds/ are generated from the model and checked in: this fails
 * when someone changed the model without running `npm run generate`, or edited a generated
 * file by hand.
 */
import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { crdFiles } from '../../../src/api/crd.ts';

const ROOT = join(import.meta.dirname, '../../..');

describe.each(['crds', 'deploy/crds'])('%s/', (dir) => {
  const expected = crdFiles();

  it('holds exactly the generated files', async () => {
    const present = (await readdir(join(ROOT, dir))).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
    expect(present).toEqual([...expected.keys()].sort());
  });

  it.each([...expected.keys()])('%s is what the model generates (run `npm run generate` if not)', async (name) => {
    const onDisk = await readFile(join(ROOT, dir, name), 'utf8');
    expect(onDisk).toBe(expected.get(name));
  });
});

describe('deploy/crds/kustomization.yaml', () => {
  it('lists every generated CRD (run `npm run generate` if not)', async () => {
    const kustomization = parse(await readFile(join(ROOT, 'deploy/crds/kustomization.yaml'), 'utf8')) as { resources?: string[] };
    expect(kustomization.resources).toEqual([...crdFiles().keys()].sort());
  });
});
