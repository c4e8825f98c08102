/**
 * A real Prometheus server (Debian's `prometheus` package) scraping targets on loopback, for
 * end-to-end tests of metrics and alert rules: over HTTPS with a bearer token, as the shipped
 * ServiceMonitor scrapes the operator, or plain HTTP. Everything lives in a temporary
 * directory that stop() removes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { freePort } from '../../src/envtest/controlplane.ts';

export interface PrometheusOptions {
  /** host:port targets of the job `backlot`. */
  targets: string[];
  ruleFiles?: string[];
  /**
   * Scrape over HTTPS with this bearer token, written to a file Prometheus reads as it reads a
   * ServiceMonitor's bearerTokenFile; the certificate unverified (insecureSkipVerify) unless
   * `ca` is given. Absent: plain HTTP.
   */
  secure?: { token?: string; ca?: string; insecureSkipVerify?: boolean };
}

export class Prometheus {
  readonly url: string;
  private readonly child: ChildProcess;
  private readonly dir: string;

  private constructor(child: ChildProcess, dir: string, port: number) {
    this.child = child;
    this.dir = dir;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(options: PrometheusOptions): Promise<Prometheus> {
    const dir = await mkdtemp(join(tmpdir(), 'backlot-prometheus-'));
    const port = await freePort();
    const job: Record<string, unknown> = { job_name: 'backlot', static_configs: [{ targets: options.targets }] };
    if (options.secure) {
      const { token, ca, insecureSkipVerify } = options.secure;
      if (token !== undefined) await writeFile(join(dir, 'token'), token, { mode: 0o600 });
      if (ca !== undefined) await writeFile(join(dir, 'ca.crt'), ca);
      Object.assign(job, {
        scheme: 'https',
        ...(token !== undefined ? { authorization: { type: 'Bearer', credentials_file: join(dir, 'token') } } : {}),
        tls_config: ca !== undefined ? { ca_file: join(dir, 'ca.crt') } : { insecure_skip_verify: insecureSkipVerify ?? true },
      });
    }
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: [job],
    };
    await writeFile(join(dir, 'prometheus.yml'), stringify(config));
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    const failed = new Promise<never>((_, reject) => {
      child.on('error', (err) => reject(new Error(`could not start prometheus (apt-get install prometheus): ${err.message}`)));
      child.on('exit', (code) => reject(new Error(`prometheus exited with ${code}: ${stderr}`)));
    });
    const prom = new Prometheus(child, dir, port);
    const ready = (async () => {
      for (let i = 0; i < 300; i++) {
        try {
          if ((await fetch(`${prom.url}/-/ready`)).status === 200) return;
        } catch {
          // not up yet
        }
        await sleep(100);
      }
      throw new Error(`prometheus was not ready: ${stderr}`);
    })();
    try {
      await Promise.race([ready, failed]);
    } catch (err) {
      await prom.stop();
      throw err;
    }
    failed.catch(() => undefined);
    return prom;
  }

  /** An instant query; the result vector. Throws on a query error. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
    return body.data?.result ?? [];
  }

  /** The job's targets as Prometheus sees them: health and the last scrape's error. */
  async targets(): Promise<{ scrapeUrl: string; health: string; lastError: string }[]> {
    const res = await fetch(`${this.url}/api/v1/targets?state=active`);
    const body = (await res.json()) as { data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] } };
    return body.data.activeTargets;
  }

  async alerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
    const res = await fetch(`${this.url}/api/v1/alerts`);
    const body = (await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    return body.data.alerts;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
