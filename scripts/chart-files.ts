/**
 * `npm run generate` (after the CRDs): copies into the Helm chart the files it shares with
 * deploy/, the CRDs, the alert rules and the Grafana dashboard, so that both install the same
 * bytes. Helm reads nothing outside a chart's directory (`.Files.Get` sees only the chart, and
 * `helm package` would follow a symbolic link out of it with a warning), so the chart keeps
 * copies; test/unit/chart.test.ts fails when a copy differs from deploy/.
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/** The chart's copies, each beside the file of deploy/ it copies (paths from the repository root). */
export async function chartCopies(): Promise<{ from: string; to: string }[]> {
  const crds = (await readdir(join(root, 'deploy/crds'))).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  return [
    ...crds.map((f) => ({ from: `deploy/crds/${f}`, to: `charts/backlot/files/crds/${f}` })),
    { from: 'deploy/alerts/backlot.rules.yaml', to: 'charts/backlot/files/backlot.rules.yaml' },
    { from: 'deploy/monitoring/grafana-dashboard.json', to: 'charts/backlot/files/grafana-dashboard.json' },
  ];
}

if (import.meta.main) {
  // The CRD directory is rewritten whole, so that a kind removed from deploy/ leaves the chart too.
  await rm(join(root, 'charts/backlot/files/crds'), { recursive: true, force: true });
  await mkdir(join(root, 'charts/backlot/files/crds'), { recursive: true });
  for (const { from, to } of await chartCopies()) {
    await copyFile(join(root, from), join(root, to));
    process.stdout.write(`copied ${from} to ${to}\n`);
  }
}
