import { describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetError, defaultCacheDir, locateGivenAssets, resolveAssets, resolveClusterAssets } from '../../../src/envtest/assets.ts';

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
    expect(defaultCacheDir({ HOME: '/home/dev' }, 'v1.36.3')).toBe(`/home/dev/.cache/backlot/envtest/kubernetes-v1.36.3-${process.platform}-${process.arch}`);
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/var/cache/me' }, 'v1.36.3')).toMatch(/^\/var\/cache\/me\/backlot\/envtest\//);
    expect(defaultCacheDir({ BACKLOT_ENVTEST_CACHE: '/opt/envtest' })).toBe('/opt/envtest');
  });
});

/**
 * A stand-in for the go command that records its arguments and, for `go build -o DIR/ PKG...`,
 * writes an empty binary per package: enough to see what a build was asked to compile.
 */
const FAKE_GO = `#!/bin/sh
echo "$*" >> "$FAKE_GO_LOG"
case "$1 $2" in
  "env GOVERSION") echo go1.26.8 ;;
  "mod download") printf '{"GoMod":"%s"}' "$FAKE_GO_MOD" ;;
  "build -v")
    while [ "$1" != "-o" ]; do shift; done
    out=$2; shift 2
    for pkg in "$@"; do echo built > "$out\${pkg##*/}"; done ;;
esac
`;

describe('building what the cache lacks', () => {
  it('builds only the missing commands of the Kubernetes module, and leaves the cached ones alone', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'backlot-fake-go-'));
    await writeFile(join(bin, 'go'), FAKE_GO);
    await chmod(join(bin, 'go'), 0o755);
    await writeFile(join(bin, 'kubernetes.mod'), 'module k8s.io/kubernetes\n\nrequire (\n\tgo.etcd.io/etcd/server/v3 v3.6.8 // indirect\n)\n');
    const cacheDir = await fakeAssets(['kube-apiserver', 'etcd', 'kubectl']);
    const env = { PATH: `${bin}:${process.env.PATH}`, HOME: bin, FAKE_GO_LOG: join(bin, 'log'), FAKE_GO_MOD: join(bin, 'kubernetes.mod') };

    const assets = await resolveClusterAssets({ env, cacheDir, log: () => undefined });

    expect(assets.kubeControllerManager).toBe(join(cacheDir, 'kube-controller-manager'));
    expect(assets.kubeScheduler).toBe(join(cacheDir, 'kube-scheduler'));
    expect(assets.kubeApiserver).toBe(join(cacheDir, 'kube-apiserver'));
    const builds = (await readFile(join(bin, 'log'), 'utf8')).split('\n').filter((line) => line.startsWith('build '));
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatch(/ k8s\.io\/kubernetes\/cmd\/kube-controller-manager k8s\.io\/kubernetes\/cmd\/kube-scheduler$/);
    expect(await readFile(assets.kubeControllerManager, 'utf8')).toBe('built\n');
    expect(await readFile(assets.kubeApiserver, 'utf8')).toBe('#!/bin/sh\n');
    expect(await readFile(assets.etcd, 'utf8')).toBe('#!/bin/sh\n');
  });

  it('asks for nothing to be built when the bare plane is all that is wanted', async () => {
    const cacheDir = await fakeAssets(['kube-apiserver', 'etcd', 'kubectl']);
    expect(await resolveAssets({ env: { PATH: '/nonexistent' }, cacheDir })).toEqual({
      kubeApiserver: join(cacheDir, 'kube-apiserver'),
      etcd: join(cacheDir, 'etcd'),
      kubectl: join(cacheDir, 'kubectl'),
    });
  });

  it('refuses an envtest asset directory without the controllers, naming the variable to set', async () => {
    const dir = await fakeAssets(['kube-apiserver', 'etcd', 'kubectl']);
    await expect(resolveClusterAssets({ env: { KUBEBUILDER_ASSETS: dir } })).rejects.toThrow(
      new AssetError(
        `KUBEBUILDER_ASSETS names ${join(dir, 'kube-controller-manager')} for kube-controller-manager, but there is no executable file there ` +
          '(set TEST_ASSET_KUBE_CONTROLLER_MANAGER to one of the same release as the API server)',
      ),
    );
    const other = await fakeAssets(['kcm', 'sched']);
    const found = await resolveClusterAssets({
      env: { KUBEBUILDER_ASSETS: dir, TEST_ASSET_KUBE_CONTROLLER_MANAGER: join(other, 'kcm'), TEST_ASSET_KUBE_SCHEDULER: join(other, 'sched') },
    });
    expect(found).toMatchObject({ kubeControllerManager: join(other, 'kcm'), kubeScheduler: join(other, 'sched'), kubectl: join(dir, 'kubectl') });
  });
});
