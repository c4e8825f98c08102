import { describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetError } from '../../../src/envtest/assets.ts';
import { resolveTool, toolCacheDir, toolEnvVar, TOOLS } from '../../../src/envtest/tools.ts';

async function executable(path: string): Promise<string> {
  await writeFile(path, '#!/bin/sh\n');
  await chmod(path, 0o755);
  return path;
}

describe('the pinned Go tools', () => {
  it('are named by TEST_ASSET_<NAME> variables', () => {
    expect(toolEnvVar('helm')).toBe('TEST_ASSET_HELM');
    expect(toolEnvVar('kube-state-metrics')).toBe('TEST_ASSET_KUBE_STATE_METRICS');
  });

  it('are cached beside the control plane, one directory per version', () => {
    expect(toolCacheDir(TOOLS.helm, { BACKLOT_ENVTEST_CACHE: '/c/backlot/envtest/kubernetes-v1.36.3-linux-x64' })).toBe(
      `/c/backlot/envtest/tools/helm-${TOOLS.helm.version}-${process.platform}-${process.arch}`,
    );
    expect(toolCacheDir(TOOLS.helm, { XDG_CACHE_HOME: '/x' })).toBe(`/x/backlot/envtest/tools/helm-${TOOLS.helm.version}-${process.platform}-${process.arch}`);
  });

  it('take a prebuilt binary from the environment, and refuse a path that holds none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backlot-tools-'));
    const helm = await executable(join(dir, 'my-helm'));
    expect(await resolveTool('helm', { env: { TEST_ASSET_HELM: helm } })).toBe(helm);
    await expect(resolveTool('helm', { env: { TEST_ASSET_HELM: join(dir, 'none') } })).rejects.toThrow(
      new AssetError(`TEST_ASSET_HELM names ${join(dir, 'none')} for helm, but there is no executable file there`),
    );
  });

  it('take kube-state-metrics from TEST_ASSET_KUBE_STATE_METRICS, or from a cache directory of its own version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backlot-tools-'));
    const ksm = await executable(join(dir, 'ksm'));
    expect(await resolveTool('kube-state-metrics', { env: { TEST_ASSET_KUBE_STATE_METRICS: ksm } })).toBe(ksm);
    expect(toolCacheDir(TOOLS['kube-state-metrics'], { XDG_CACHE_HOME: '/x' })).toBe(
      `/x/backlot/envtest/tools/kube-state-metrics-${TOOLS['kube-state-metrics'].version}-${process.platform}-${process.arch}`,
    );
  });

  it('each build the version they are pinned at and report it', () => {
    for (const tool of Object.values(TOOLS)) {
      expect(tool.package.startsWith(tool.module)).toBe(true);
      expect(tool.ldflags).toContain(`=${tool.version}`);
    }
  });

  it('use what the cache holds without building', async () => {
    const root = await mkdtemp(join(tmpdir(), 'backlot-tools-'));
    const env = { BACKLOT_ENVTEST_CACHE: join(root, 'envtest', 'kubernetes-v1.36.3-linux-x64') };
    const dir = toolCacheDir(TOOLS.helm, env);
    await mkdir(dir, { recursive: true });
    const cached = await executable(join(dir, 'helm'));
    const lines: string[] = [];
    expect(await resolveTool('helm', { env, log: (l) => lines.push(l) })).toBe(cached);
    expect(lines).toEqual([]);
  });
});
