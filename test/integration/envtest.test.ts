/**
 * The local control plane harness itself: side-by-side instances, restarts on the same etcd,
 * clean teardown on every path, and failures that say what went wrong.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { resolveAssets } from '../../src/envtest/assets.ts';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { kubeConfig } from '../support/cluster.ts';

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch {
    return true;
  }
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(100);
  }
  return check();
}

describe('ControlPlane', () => {
  it('runs a second instance beside the shared one and removes every trace on stop', async () => {
    const plane = await ControlPlane.start();
    const shared = kubeConfig().getCurrentCluster()?.server;
    expect(plane.apiServerUrl).not.toBe(shared);
    expect(alive(plane.etcd.pid)).toBe(true);
    expect(alive(plane.apiServer.pid)).toBe(true);

    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'only-here' } } });
    // The shared instance has its own etcd: the namespace does not exist there.
    await expect(kubeConfig().makeApiClient(CoreV1Api).readNamespace({ name: 'only-here' })).rejects.toMatchObject({ code: 404 });

    const pids = [plane.etcd.pid, plane.apiServer.pid];
    await plane.stop();
    expect(pids.map(alive)).toEqual([false, false]);
    expect(await gone(plane.dir)).toBe(true);
  });

  it('restarts the API server on the same port and etcd, keeping the data', async () => {
    const plane = await ControlPlane.start();
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(plane.kubeconfigPath);
      const core = kc.makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'survives' } } });
      const firstPid = plane.apiServer.pid;

      plane.apiServer.signal('SIGKILL');
      expect(await plane.apiServer.waitExit(10_000)).not.toBeUndefined();
      await expect(core.readNamespace({ name: 'survives' })).rejects.toThrow();

      await plane.startApiServer();
      expect(plane.apiServer.pid).not.toBe(firstPid);
      const read = await core.readNamespace({ name: 'survives' });
      expect(read.metadata?.name).toBe('survives');
    } finally {
      await plane.stop();
    }
  });

  /** Starts start-plane.ts with `args`, kills it outright, and expects every process and file of it gone. */
  async function killedOutright(args: string[]): Promise<void> {
    const child = spawn(process.execPath, [join(import.meta.dirname, '../support/start-plane.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          out += c;
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`start-plane exited with ${code}`)));
      });
      const { pids, dir } = JSON.parse(line) as { pids: number[]; dir: string };
      expect(pids.map(alive)).toEqual(pids.map(() => true));

      child.kill('SIGKILL');
      expect(await waitUntil(() => !pids.some(alive), 20_000)).toBe(true);
      // The wrapper that outlives its parent removes the control plane's files too.
      const deadline = Date.now() + 10_000;
      while (!(await gone(dir)) && Date.now() < deadline) await sleep(100);
      expect(await gone(dir)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  }

  it('leaves no process behind when the process that started it is killed outright', async () => {
    await killedOutright([]);
  });

  it('leaves no process of the realistic cluster behind either', async () => {
    await killedOutright(['--cluster']);
  });

  it('names the binary and shows the end of its log when it will not start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backlot-broken-'));
    const broken = join(dir, 'kube-apiserver');
    await writeFile(broken, '#!/bin/sh\necho "E1121 flag provided but not defined: --nonsense" >&2\nexit 1\n');
    await chmod(broken, 0o755);
    const assets = await resolveAssets();
    const error = await ControlPlane.start({ assets: { ...assets, kubeApiserver: broken } }).then(
      async (plane) => {
        await plane.stop();
        throw new Error('a control plane started with a broken kube-apiserver');
      },
      (err: unknown) => err as Error,
    );
    expect(error.message).toContain(`kube-apiserver exited before it was ready (binary ${broken})`);
    expect(error.message).toContain('flag provided but not defined: --nonsense');
  });

  it('says which port is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(ControlPlane.start({ ports: { apiServer: port } })).rejects.toThrow(`port ${port} (apiServer) on 127.0.0.1 is already in use`);
    } finally {
      server.close();
    }
  });
});
