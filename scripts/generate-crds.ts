/**
 * `npm run generate`: writes the CRDs from the model in src/api, one file per kind, into
 * crds/ and into deploy/crds/ (kustomize loads nothing from outside its root, so the
 * deploy/ base needs a copy of its own, with a kustomization listing the files), and
 * removes generated files of kinds that no longer exist. The unit test in
 * test/unit/api/crd-drift.test.ts fails until this has been run after a model change.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { API_GROUP } from '../src/api/common.ts';
import { crdFiles, GENERATED_HEADER } from '../src/api/crd.ts';

const root = join(import.meta.dirname, '..');
const files = crdFiles();

async function writeCrds(dir: string): Promise<void> {
  await mkdir(join(root, dir), { recursive: true });
  for (const [name, text] of files) {
    await writeFile(join(root, dir, name), text);
    process.stdout.write(`wrote ${dir}/${name} (${Buffer.byteLength(text)} bytes)\n`);
  }
  for (const name of await readdir(join(root, dir))) {
    if (name.startsWith(`${API_GROUP}_`) && !files.has(name)) {
      await rm(join(root, dir, name));
      process.stdout.write(`removed ${dir}/${name}\n`);
    }
  }
}

await writeCrds('crds');
await writeCrds('deploy/crds');
const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...files.keys()].sort() };
await writeFile(join(root, 'deploy/crds/kustomization.yaml'), GENERATED_HEADER + stringify(kustomization));
process.stdout.write('wrote deploy/crds/kustomization.yaml\n');
