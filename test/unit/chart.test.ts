/**
 * The Helm chart's own files against the repository: its version is the package's, the files
 * it shares with deploy/ are the same bytes (`npm run generate` copies them), and its schema
 * describes every value it ships. What it renders is test/integration/chart-render.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chartCopies } from '../../scripts/chart-files.ts';

const ROOT = join(import.meta.dirname, '../..');
const CHART = join(ROOT, 'charts/backlot');

const readYaml = async <T>(path: string): Promise<T> => parse(await readFile(path, 'utf8')) as T;

describe('charts/backlot', () => {
  it('has the version of package.json as its version and appVersion', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const chart = await readYaml<{ apiVersion: string; name: string; version: string; appVersion: string }>(join(CHART, 'Chart.yaml'));
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'backlot', version: pkg.version, appVersion: pkg.version });
  });

  it('holds a copy of every CRD of deploy/crds and nothing more (run `npm run generate` if not)', async () => {
    const inDeploy = (await readdir(join(ROOT, 'deploy/crds'))).filter((f) => f !== 'kustomization.yaml').sort();
    expect((await readdir(join(CHART, 'files/crds'))).sort()).toEqual(inDeploy);
    expect(inDeploy.length).toBeGreaterThan(0);
  });

  it('copies the CRDs, the alert rules and the dashboard byte for byte from deploy/ (run `npm run generate` if not)', async () => {
    const copies = await chartCopies();
    expect(copies.map((c) => c.to)).toEqual(expect.arrayContaining(['charts/backlot/files/backlot.rules.yaml', 'charts/backlot/files/grafana-dashboard.json']));
    for (const { from, to } of copies) {
      const [source, copy] = await Promise.all([readFile(join(ROOT, from), 'utf8'), readFile(join(ROOT, to), 'utf8')]);
      expect([to, copy === source]).toEqual([to, true]);
    }
  });

  it('describes every value of values.yaml in values.schema.json, which refuses unknown top-level keys', async () => {
    const values = await readYaml<Record<string, unknown>>(join(CHART, 'values.yaml'));
    const schema = JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as {
      additionalProperties: boolean;
      properties: Record<string, { properties?: Record<string, unknown>; additionalProperties?: unknown }>;
    };
    expect(schema.additionalProperties).toBe(false);
    // `global` is Helm's, for a chart used as a dependency; values.yaml has none.
    expect(
      Object.keys(schema.properties)
        .filter((k) => k !== 'global')
        .sort(),
    ).toEqual(Object.keys(values).sort());
    // The chart's own objects are closed too, and list what values.yaml has in them.
    for (const [key, property] of Object.entries(schema.properties)) {
      if (property.additionalProperties !== false) continue;
      expect([key, Object.keys(property.properties ?? {}).sort()]).toEqual([key, Object.keys(values[key] as object).sort()]);
    }
  });
});
