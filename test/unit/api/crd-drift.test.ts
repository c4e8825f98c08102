/**
 * crds/ is generated from the model and checked in: this fails when someone changed the
 * model without running `npm run generate`, or edited a generated file by hand.
 */
import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crdFiles } from '../../../src/api/crd.ts';

const CRDS_DIR = join(import.meta.dirname, '../../../crds');

describe('crds/', () => {
  const expected = crdFiles();

  it('holds exactly the generated files', async () => {
    const present = (await readdir(CRDS_DIR)).filter((f) => f.endsWith('.yaml')).sort();
    expect(present).toEqual([...expected.keys()].sort());
  });

  it.each([...expected.keys()])('%s is what the model generates (run `npm run generate` if not)', async (name) => {
    const onDisk = await readFile(join(CRDS_DIR, name), 'utf8');
    expect(onDisk).toBe(expected.get(name));
  });
});
