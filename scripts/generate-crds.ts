/**
 * `npm run generate`: writes crds/*.yaml from the model in src/api, one file per kind, and
 * removes generated files of kinds that no longer exist. The unit test in
 * test/unit/api/crd-drift.test.ts fails until this has been run after a model change.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { API_GROUP } from '../src/api/common.ts';
import { crdFiles } from '../src/api/crd.ts';

const dir = join(import.meta.dirname, '..', 'crds');
await mkdir(dir, { recursive: true });
const files = crdFiles();
for (const [name, text] of files) {
  await writeFile(join(dir, name), text);
  process.stdout.write(`wrote crds/${name} (${Buffer.byteLength(text)} bytes)\n`);
}
for (const name of await readdir(dir)) {
  if (name.startsWith(`${API_GROUP}_`) && !files.has(name)) {
    await rm(join(dir, name));
    process.stdout.write(`removed crds/${name}\n`);
  }
}
