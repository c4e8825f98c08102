/**
 * `backlot run` as a real child process against a control plane: what the end-to-end tests
 * and the demo drive. Its logs go to a file; stop() sends SIGTERM and waits for the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './net.ts';
import { httpsGet } from './https-get.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface BacklotProcessOptions {
  kubeconfig: string;
  logPath: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * Secure metrics (--metrics-secure=true): metrics() and get() send this bearer token and
   * skip verifying the self-signed certificate, as a ServiceMonitor with insecureSkipVerify.
   */
  metricsToken?: string;
  /**
   * Run the build (dist/backlot.mjs, the executable `npm run build` writes beside the bundle)
   * instead of the TypeScript sources: what the image runs, without the start-up cost of
   * stripping types.
   */
  built?: boolean;
}

/**
 * The Node.js options an executable's first line gives (`#!/usr/bin/env -S node --flag ...`),
 * so that running it with this process's node applies the same V8 settings as running it
 * directly, as the image does.
 */
export function shebangNodeOptions(head: string): string[] {
  const first = head.split('\n', 1)[0] ?? '';
  const m = /^#!\S*env(?:\s+-S)?\s+node((?:\s+\S+)*)\s*$/.exec(first);
  return m?.[1] ? m[1].trim().split(/\s+/) : [];
}

export class BacklotProcess {
  readonly metricsUrl: string;
  readonly probeUrl: string;
  readonly logPath: string;
  private readonly metricsToken: string | undefined;
  private readonly child: ChildProcess;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, ports: { metrics: number; probe: number }, logPath: string, metricsToken: string | undefined) {
    this.child = child;
    this.metricsToken = metricsToken;
    this.metricsUrl = `${metricsToken === undefined ? 'http' : 'https'}://127.0.0.1:${ports.metrics}/metrics`;
    this.probeUrl = `http://127.0.0.1:${ports.probe}`;
    this.logPath = logPath;
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve((this.exitCode = code ?? (signal ? 128 : null)))));
  }

  static async start(options: BacklotProcessOptions): Promise<BacklotProcess> {
    const ports = { metrics: await freePort(), probe: await freePort() };
    const entry = join(ROOT, options.built ? 'dist/backlot.mjs' : 'src/cli/main.ts');
    const log = openSync(options.logPath, 'a');
    const child = spawn(
      process.execPath,
      [
        ...shebangNodeOptions(readFileSync(entry, 'utf8').slice(0, 512)),
        entry,
        'run',
        `--kubeconfig=${options.kubeconfig}`,
        `--metrics-bind-address=127.0.0.1:${ports.metrics}`,
        `--health-probe-bind-address=127.0.0.1:${ports.probe}`,
        `--metrics-secure=${options.metricsToken !== undefined}`,
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', log, log], env: { ...process.env, ...options.env } },
    );
    closeSync(log);
    return new BacklotProcess(child, ports, options.logPath, options.metricsToken);
  }

  get pid(): number | undefined {
    return this.child.pid;
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

  /** Waits until /readyz answers 200 (every informer synced). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`backlot run exited with ${this.exitCode}; its log:\n${this.logs().slice(-4000)}`);
      try {
        const res = await fetch(`${this.probeUrl}/readyz`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`backlot run was not ready after ${timeoutMs} ms; its log:\n${this.logs().slice(-4000)}`);
  }

  async metrics(): Promise<string> {
    return (await this.get('/metrics')).body;
  }

  /** A GET of `path` on the metrics port, with the metrics token when it is secure. */
  async get(path: string): Promise<{ status: number; body: string }> {
    const url = new URL(path, this.metricsUrl).toString();
    if (this.metricsToken === undefined) {
      const res = await fetch(url);
      return { status: res.status, body: await res.text() };
    }
    return httpsGet(url, { token: this.metricsToken });
  }

  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  async stop(graceMs = 35_000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
