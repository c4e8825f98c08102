import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadKubeConfig } from '../../../src/k8s/kubeconfig.ts';

const fileConfig = (name: string, server: string, current = name) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server } }],
    users: [{ name, user: { token: `token-${name}` } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': current,
  });

describe('loadKubeConfig', () => {
  it('builds the in-cluster configuration from the service account files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kc-'));
    try {
      await writeFile(join(dir, 'token'), 'sa-token');
      await writeFile(join(dir, 'ca.crt'), 'ca-pem');
      const kc = loadKubeConfig({ kind: 'in-cluster', host: 'fd00::1', port: '443', tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt') });
      expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://[fd00::1]:443', caFile: join(dir, 'ca.crt'), skipTLSVerify: false });
      const opts: RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      expect((opts.headers as Record<string, string>).Authorization).toBe('Bearer sa-token');
      expect(String(opts.ca)).toBe('ca-pem');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('merges kubeconfig files in order, the first current-context winning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kc-'));
    try {
      await writeFile(join(dir, 'a'), fileConfig('a', 'https://a.example:6443'));
      await writeFile(join(dir, 'b'), fileConfig('b', 'https://b.example:6443'));
      const kc = loadKubeConfig({ kind: 'file', paths: [join(dir, 'a'), join(dir, 'b')] });
      expect(kc.getCurrentCluster()?.server).toBe('https://a.example:6443');
      expect(kc.getClusters().map((c) => c.name)).toEqual(['a', 'b']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says which file is missing, and what to do', () => {
    expect(() => loadKubeConfig({ kind: 'file', paths: ['/nonexistent/kubeconfig'] })).toThrow(
      'kubeconfig file /nonexistent/kubeconfig does not exist; pass --kubeconfig=PATH or run inside a cluster',
    );
  });

  it('refuses a kubeconfig whose current context names no cluster', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kc-'));
    try {
      await writeFile(join(dir, 'a'), fileConfig('a', 'https://a.example:6443', 'missing'));
      expect(() => loadKubeConfig({ kind: 'file', paths: [join(dir, 'a')] })).toThrow('has no current context with a cluster (current-context: "missing")');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
