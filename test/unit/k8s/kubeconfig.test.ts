/**
 * The kubeconfig loader against kubectl's own cases: client-go's tools/clientcmd/loader_test.go
 * (its test configs alfa to delta and the conflicting alfa, the examples of merging, the
 * precedence, deduplication and relative paths), read through this loader.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { currentCluster, KubeconfigError, kubeconfigFiles, loadKubeConfig } from '../../../src/k8s/kubeconfig.ts';

interface Config {
  users?: Record<string, { token: string }>;
  clusters?: Record<string, { server: string; 'insecure-skip-tls-verify'?: boolean; 'certificate-authority'?: string }>;
  contexts?: Record<string, { user: string; cluster: string; namespace: string }>;
  current?: string;
}

const yaml = (c: Config) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: Object.entries(c.clusters ?? {}).map(([name, cluster]) => ({ name, cluster })),
    users: Object.entries(c.users ?? {}).map(([name, user]) => ({ name, user })),
    contexts: Object.entries(c.contexts ?? {}).map(([name, context]) => ({ name, context })),
    ...(c.current ? { 'current-context': c.current } : {}),
  });

// client-go's testConfigAlfa ... testConfigDelta and testConfigConflictAlfa.
const alfa: Config = {
  users: { 'red-user': { token: 'red-token' } },
  clusters: { 'cow-cluster': { server: 'http://cow.org:8080' } },
  contexts: { 'federal-context': { user: 'red-user', cluster: 'cow-cluster', namespace: 'hammer-ns' } },
};
const bravo: Config = {
  users: { 'black-user': { token: 'black-token' } },
  clusters: { 'pig-cluster': { server: 'http://pig.org:8080' } },
  contexts: { 'queen-anne-context': { user: 'black-user', cluster: 'pig-cluster', namespace: 'saw-ns' } },
};
const charlie: Config = {
  users: { 'green-user': { token: 'green-token' } },
  clusters: { 'horse-cluster': { server: 'http://horse.org:8080' } },
  contexts: { 'shaker-context': { user: 'green-user', cluster: 'horse-cluster', namespace: 'chisel-ns' } },
};
const delta: Config = {
  users: { 'blue-user': { token: 'blue-token' } },
  clusters: { 'chicken-cluster': { server: 'http://chicken.org:8080' } },
  contexts: { 'gothic-context': { user: 'blue-user', cluster: 'chicken-cluster', namespace: 'plane-ns' } },
};
const conflictAlfa: Config = {
  users: { 'red-user': { token: 'a-different-red-token' }, 'yellow-user': { token: 'yellow-token' } },
  clusters: {
    'cow-cluster': { server: 'http://a-different-cow.org:8080', 'insecure-skip-tls-verify': true },
    'donkey-cluster': { server: 'http://donkey.org:8080', 'insecure-skip-tls-verify': true },
  },
  current: 'federal-context',
};

/** The merged configuration as plain, sorted data, to compare with client-go's expected output. */
function summary(kc: KubeConfig) {
  const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
  return {
    clusters: byName(kc.getClusters()).map((c) => ({ name: c.name, server: c.server, ...(c.skipTLSVerify ? { insecure: true } : {}) })),
    users: byName(kc.getUsers()).map((u) => ({ name: u.name, token: u.token })),
    contexts: byName(kc.getContexts()).map((c) => ({ name: c.name, cluster: c.cluster, user: c.user, namespace: c.namespace })),
    current: kc.getCurrentContext() ?? '',
  };
}

describe('loadKubeConfig, with client-go loader_test.go cases', () => {
  let dir: string;
  const file = async (name: string, config: Config | string) => {
    const path = join(dir, name);
    await writeFile(path, typeof config === 'string' ? config : yaml(config));
    return path;
  };
  const fromEnv = (...paths: string[]) => loadKubeConfig(kubeconfigFiles(undefined, { KUBECONFIG: paths.join(delimiter) }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('NonExistentCommandLineFile: --kubeconfig must exist, and the error names it', () => {
    expect(() => loadKubeConfig(kubeconfigFiles('bogus_file', {}))).toThrow(KubeconfigError);
    expect(() => loadKubeConfig(kubeconfigFiles('bogus_file', {}))).toThrow(
      'no kubeconfig found at bogus_file (from --kubeconfig): pass --kubeconfig PATH or set KUBECONFIG',
    );
  });

  it('ToleratingMissingFiles: files of KUBECONFIG that do not exist are skipped', async () => {
    const present = await file('tolerated', alfa);
    expect(summary(fromEnv(join(dir, 'bogus1'), present, join(dir, 'bogus2'))).clusters).toEqual([{ name: 'cow-cluster', server: 'http://cow.org:8080' }]);
    // client-go loads an empty configuration when none exists, and fails when it is used; this says so at once.
    expect(() => fromEnv(join(dir, 'bogus1'), join(dir, 'bogus2'))).toThrow(
      `no kubeconfig found at ${join(dir, 'bogus1')}, ${join(dir, 'bogus2')} (from KUBECONFIG)`,
    );
  });

  it('ErrorReadingFile and ErrorReadingNonFile: a file that cannot be read is an error naming it', async () => {
    const bogus = await file('bogus', 'clusters: [');
    expect(() => loadKubeConfig(kubeconfigFiles(bogus, {}))).toThrow(`cannot read the kubeconfig ${bogus}`);
    expect(() => loadKubeConfig(kubeconfigFiles(dir, {}))).toThrow(`cannot read the kubeconfig ${dir}`);
  });

  it('ConflictingCurrentContext and noMergingOnExplicitPaths: --kubeconfig is read alone, KUBECONFIG ignored', async () => {
    const commandLine = await file('command-line', { ...alfa, current: 'any-context-value' });
    const envVar = await file('env-var', { ...conflictAlfa, current: 'a-different-context' });
    const kc = loadKubeConfig(kubeconfigFiles(commandLine, { KUBECONFIG: envVar }));
    expect(summary(kc)).toEqual({
      clusters: [{ name: 'cow-cluster', server: 'http://cow.org:8080' }],
      users: [{ name: 'red-user', token: 'red-token' }],
      contexts: [{ name: 'federal-context', cluster: 'cow-cluster', user: 'red-user', namespace: 'hammer-ns' }],
      current: 'any-context-value',
    });
  });

  it('mergingSomeWithConflict: the first file to name an entry wins it; a duplicate name is no error', async () => {
    const kc = fromEnv(await file('some-a', alfa), await file('some-b', conflictAlfa));
    expect(summary(kc)).toEqual({
      clusters: [
        { name: 'cow-cluster', server: 'http://cow.org:8080' },
        { name: 'donkey-cluster', server: 'http://donkey.org:8080', insecure: true },
      ],
      users: [
        { name: 'red-user', token: 'red-token' },
        { name: 'yellow-user', token: 'yellow-token' },
      ],
      contexts: [{ name: 'federal-context', cluster: 'cow-cluster', user: 'red-user', namespace: 'hammer-ns' }],
      // The first file names no current context: the first that does wins.
      current: 'federal-context',
    });
  });

  it('mergingEverythingNoConflicts: every entry of every file', async () => {
    const kc = fromEnv(await file('all-a', alfa), await file('all-b', bravo), await file('all-c', charlie), await file('all-d', delta));
    expect(summary(kc)).toEqual({
      clusters: ['chicken', 'cow', 'horse', 'pig'].map((n) => ({ name: `${n}-cluster`, server: `http://${n}.org:8080` })),
      users: ['black', 'blue', 'green', 'red'].map((n) => ({ name: `${n}-user`, token: `${n}-token` })),
      contexts: [
        { name: 'federal-context', cluster: 'cow-cluster', user: 'red-user', namespace: 'hammer-ns' },
        { name: 'gothic-context', cluster: 'chicken-cluster', user: 'blue-user', namespace: 'plane-ns' },
        { name: 'queen-anne-context', cluster: 'pig-cluster', user: 'black-user', namespace: 'saw-ns' },
        { name: 'shaker-context', cluster: 'horse-cluster', user: 'green-user', namespace: 'chisel-ns' },
      ],
      current: '',
    });
  });

  it("ResolveRelativePaths: a relative path in a file is read from that file's directory", async () => {
    await mkdir(join(dir, 'one', 'two'), { recursive: true });
    const first = await file(join('one', 'config'), {
      clusters: {
        'relative-server-1': { server: 'https://a', 'certificate-authority': '../relative/ca' },
        'absolute-server-1': { server: 'https://b', 'certificate-authority': '/absolute/ca' },
      },
    });
    const second = await file(join('one', 'two', 'config'), {
      clusters: { 'relative-server-2': { server: 'https://c', 'certificate-authority': '../relative/ca2' } },
    });
    const cas = Object.fromEntries(
      fromEnv(first, second)
        .getClusters()
        .map((c) => [c.name, c.caFile]),
    );
    expect(cas).toEqual({
      'relative-server-1': join(dir, 'relative', 'ca'),
      'absolute-server-1': '/absolute/ca',
      'relative-server-2': join(dir, 'one', 'relative', 'ca2'),
    });
  });
});

describe('kubeconfigFiles (client-go LoadingGetLoadingPrecedence, Deduplicate)', () => {
  it.each([
    ['default', undefined, { HOME: '/home/op' }, { paths: ['/home/op/.kube/config'], from: 'the default location' }],
    ['explicit', '/explicit/kubeconfig', { KUBECONFIG: '/env/kubeconfig' }, { paths: ['/explicit/kubeconfig'], from: '--kubeconfig' }],
    ['envvar-single', undefined, { KUBECONFIG: '/env/kubeconfig' }, { paths: ['/env/kubeconfig'], from: 'KUBECONFIG' }],
    [
      'envvar-multiple',
      undefined,
      { KUBECONFIG: ['/env/kubeconfig', '/other/kubeconfig'].join(delimiter) },
      { paths: ['/env/kubeconfig', '/other/kubeconfig'], from: 'KUBECONFIG' },
    ],
    [
      'envvar with empty and repeated entries',
      undefined,
      { KUBECONFIG: ['a', '', 'b', 'a', 'c', 'b'].join(delimiter) },
      { paths: ['a', 'b', 'c'], from: 'KUBECONFIG' },
    ],
    ['envvar of delimiters only', undefined, { KUBECONFIG: delimiter, HOME: '/h' }, { paths: ['/h/.kube/config'], from: 'the default location' }],
  ])('%s', (_name, explicit, env, expected) => {
    expect(kubeconfigFiles(explicit, env)).toEqual({ kind: 'file', ...expected });
  });
});

describe('the in-cluster configuration and the current cluster', () => {
  it('builds the in-cluster configuration from the service account files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kc-'));
    try {
      await writeFile(join(dir, 'token'), 'sa-token');
      await writeFile(join(dir, 'ca.crt'), 'ca-pem');
      const kc = loadKubeConfig({ kind: 'in-cluster', host: 'fd00::1', port: '443', tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt') });
      expect(currentCluster(kc)).toMatchObject({ server: 'https://[fd00::1]:443', caFile: join(dir, 'ca.crt'), skipTLSVerify: false });
      const opts: RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      expect((opts.headers as Record<string, string>).Authorization).toBe('Bearer sa-token');
      expect(String(opts.ca)).toBe('ca-pem');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a kubeconfig whose current context names no cluster', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kc-'));
    try {
      const path = join(dir, 'a');
      await writeFile(path, yaml({ ...alfa, current: 'missing' }));
      expect(() => currentCluster(loadKubeConfig(kubeconfigFiles(path, {})))).toThrow('has no current context with a cluster (current-context: "missing")');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
