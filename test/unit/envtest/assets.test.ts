import { describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetError, defaultCacheDir, locateGivenAssets } from '../../../src/envtest/assets.ts';

async function fakeAssets(names: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'backlot-assets-'));
  for (const name of names) {
    await writeFile(join(dir, name), '#!/bin/sh\n');
    await chmod(join(dir, name), 0o755);
  }
  return dir;
}

describe('finding the control plane binaries', () => {
  it('takes every binary from KUBEBUILDER_ASSETS', async () => {
    const dir = await fakeAssets(['kube-apiserver', 'etcd', 'kubectl']);
    expect(await locateGivenAssets({ KUBEBUILDER_ASSETS: dir })).toEqual({
      kubeApiserver: join(dir, 'kube-apiserver'),
      etcd: join(dir, 'etcd'),
      kubectl: join(dir, 'kubectl'),
    });
  });

  it('lets TEST_ASSET_* override KUBEBUILDER_ASSETS one binary at a time', async () => {
    const dir = await fakeAssets(['kube-apiserver', 'etcd', 'kubectl']);
    const other = await fakeAssets(['my-etcd']);
    const found = await locateGivenAssets({ KUBEBUILDER_ASSETS: dir, TEST_ASSET_ETCD: join(other, 'my-etcd') });
    expect(found.etcd).toBe(join(other, 'my-etcd'));
    expect(found.kubeApiserver).toBe(join(dir, 'kube-apiserver'));
  });

  it('refuses a named path that holds no executable, saying which variable named it', async () => {
    const dir = await fakeAssets(['kube-apiserver']);
    await expect(locateGivenAssets({ KUBEBUILDER_ASSETS: dir })).rejects.toThrow(
      new AssetError(`KUBEBUILDER_ASSETS names ${join(dir, 'etcd')} for etcd, but there is no executable file there`),
    );
    await expect(locateGivenAssets({ TEST_ASSET_KUBECTL: '/nonexistent/kubectl' })).rejects.toThrow(
      'TEST_ASSET_KUBECTL names /nonexistent/kubectl for kubectl',
    );
  });

  it('keys the build cache by version, outside the repository', () => {
    expect(defaultCacheDir({ HOME: '/home/dev' }, 'v1.36.3')).toBe(
      `/home/dev/.cache/backlot/envtest/kubernetes-v1.36.3-${process.platform}-${process.arch}`,
    );
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/var/cache/me' }, 'v1.36.3')).toMatch(/^\/var\/cache\/me\/backlot\/envtest\//);
    expect(defaultCacheDir({ BACKLOT_ENVTEST_CACHE: '/opt/envtest' })).toBe('/opt/envtest');
  });
});
