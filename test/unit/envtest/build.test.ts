import { describe, expect, it } from '@jest/globals';
import { kubeGoMod, requiredVersion, stagingModules, stagingVersion, versionLdflags } from '../../../src/envtest/build.ts';

const GO_MOD = `module k8s.io/kubernetes

go 1.26.0

require (
	go.etcd.io/etcd/client/v3 v3.6.8
	k8s.io/api v0.0.0
)

require (
	go.etcd.io/etcd/server/v3 v3.6.8 // indirect
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	github.com/some/fork => github.com/other/fork v1.2.3
)
`;

describe('building from the Go modules', () => {
  it('finds the staging modules a release replaces with paths into its own tree', () => {
    expect(stagingModules(GO_MOD)).toEqual(['k8s.io/api', 'k8s.io/client-go']);
    expect(stagingModules('module x\n')).toEqual([]);
  });

  it('maps a release to the tag its staging modules are published under', () => {
    expect(stagingVersion('v1.36.3')).toBe('v0.36.3');
    expect(stagingVersion('v1.37.0-rc.1')).toBe('v0.37.0-rc.1');
    expect(() => stagingVersion('1.36.3')).toThrow('unexpected Kubernetes version 1.36.3');
  });

  it('reads the etcd version a release pins, direct or indirect', () => {
    expect(requiredVersion(GO_MOD, 'go.etcd.io/etcd/server/v3')).toBe('v3.6.8');
    expect(requiredVersion(GO_MOD, 'go.etcd.io/etcd/client/v3')).toBe('v3.6.8');
    expect(requiredVersion(GO_MOD, 'go.etcd.io/bbolt')).toBeUndefined();
  });

  it('writes a main module that replaces each staging module by its published version', () => {
    const mod = kubeGoMod('v1.36.3', ['k8s.io/api', 'k8s.io/client-go']);
    expect(mod).toContain('require k8s.io/kubernetes v1.36.3');
    expect(mod).toContain('\tk8s.io/api => k8s.io/api v0.36.3\n');
    expect(mod).toContain('\tk8s.io/client-go => k8s.io/client-go v0.36.3\n');
  });

  it('stamps the version where kubectl and the API server report it', () => {
    const flags = versionLdflags('v1.36.3', '2026-07-22T18:07:38Z');
    for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
      expect(flags).toContain(`-X ${pkg}.gitVersion=v1.36.3`);
      expect(flags).toContain(`-X ${pkg}.gitMajor=1`);
      expect(flags).toContain(`-X ${pkg}.gitMinor=36`);
      expect(flags).toContain(`-X ${pkg}.buildDate=2026-07-22T18:07:38Z`);
    }
  });
});
