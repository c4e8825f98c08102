/**
 * Runs a process the way deploy/deployment.yaml runs Backlot's container, without a container
 * engine: in a private mount namespace whose root filesystem is read-only, as a non-root
 * numeric UID with no capabilities and no_new_privs, and (for the in-cluster configuration)
 * with the service account's token, CA and namespace at the path a pod has them,
 * /var/run/secrets/kubernetes.io/serviceaccount. The network stays the host's, so the
 * process reaches the test's API server on loopback and its ports must be free ones.
 *
 * This needs root (CAP_SYS_ADMIN) for unshare and mount, as the test machine and CI have.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a pod's projected service account volume holds. */
export interface ServiceAccountFiles {
  token: string;
  caCrt: string;
  namespace: string;
}

export interface SandboxOptions {
  /** The program and its arguments. */
  argv: readonly string[];
  /** The whole environment: nothing of the test's own leaks in. */
  env: Readonly<Record<string, string>>;
  uid: number;
  gid: number;
  serviceAccount?: ServiceAccountFiles;
  /** stdout and stderr go here. */
  logPath: string;
}

// $1: the directory holding the service account files ('' for none), $2/$3: uid/gid, then argv.
const SANDBOX_SCRIPT = `
set -eu
sa=$1; uid=$2; gid=$3; shift 3
if [ -n "$sa" ]; then
  mount -t tmpfs -o mode=0755,size=1m tmpfs /run
  dir=/run/secrets/kubernetes.io/serviceaccount
  mkdir -p "$dir"
  cp "$sa/token" "$sa/ca.crt" "$sa/namespace" "$dir/"
  chmod 0644 "$dir"/*
  mount -o remount,ro /run
fi
mount -o remount,bind,ro /
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all "$@"
`;

export class SandboxedProcess {
  readonly logPath: string;
  private readonly child: ChildProcess;
  private readonly secretsDir: string | undefined;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, logPath: string, secretsDir: string | undefined) {
    this.child = child;
    this.logPath = logPath;
    this.secretsDir = secretsDir;
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve((this.exitCode = code ?? (signal ? 128 : null)))));
  }

  static async start(options: SandboxOptions): Promise<SandboxedProcess> {
    if (process.getuid?.() !== 0)
      throw new Error(
        'the pod sandbox needs root (CAP_SYS_ADMIN) for a private mount namespace and a read-only root; run the integration tests as root, as CI does',
      );
    let secretsDir: string | undefined;
    if (options.serviceAccount) {
      secretsDir = await mkdtemp(join(tmpdir(), 'backlot-sa-'));
      await writeFile(join(secretsDir, 'token'), options.serviceAccount.token, { mode: 0o600 });
      await writeFile(join(secretsDir, 'ca.crt'), options.serviceAccount.caCrt, { mode: 0o600 });
      await writeFile(join(secretsDir, 'namespace'), options.serviceAccount.namespace, { mode: 0o600 });
    }
    const log = openSync(options.logPath, 'a');
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        SANDBOX_SCRIPT,
        'pod-sandbox',
        secretsDir ?? '',
        String(options.uid),
        String(options.gid),
        ...options.argv,
      ],
      {
        stdio: ['ignore', log, log],
        env: { ...options.env },
      },
    );
    closeSync(log);
    return new SandboxedProcess(child, options.logPath, secretsDir);
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  logs(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Waits until `url` answers 200. */
  async waitFor(url: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`the sandboxed process exited with ${this.exitCode}; its log:\n${this.logs().slice(-4000)}`);
      try {
        if ((await fetch(url)).status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${url} did not answer 200 within ${timeoutMs} ms; the log:\n${this.logs().slice(-4000)}`);
  }

  /** The exit code of a process that ends by itself. */
  async exit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  async stop(graceMs = 35_000): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      try {
        await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    if (this.secretsDir) await rm(this.secretsDir, { recursive: true, force: true });
    return this.exitCode ?? null;
  }
}

/** A copy of a file the sandboxed UID can read (the original may be private to root). */
export async function readableCopy(content: string, name: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'backlot-readable-'));
  await chmod(dir, 0o755);
  const path = join(dir, name);
  await writeFile(path, content, { mode: 0o644 });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
