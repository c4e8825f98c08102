/**
 * The benchmark's peer: kube-state-metrics, a one-process exporter that lists and watches the
 * same built-in resources Backlot does and serves a series for each object, run on the same
 * control plane and world right after Backlot's restarts (scripts/bench.ts). For each start:
 * the time from the process's start to the end of its first complete scrape of /metrics (one
 * that holds a series for every object of the world), its CPU seconds at that moment, and its
 * resident set after the same idle time Backlot's steady-state memory is read after.
 *
 * kube-state-metrics has no entities of Backlot's catalog (custom resources need a
 * configuration of their own), so it lists the built-in resources only: a lower bound on what
 * a start of Backlot has to list. It runs with its defaults otherwise: every metric family of
 * those resources, and consistent paged LISTs (no --use-apiserver-cache), as Backlot lists.
 */
import { get } from 'node:http';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { freePort } from '../src/envtest/controlplane.ts';
import { ManagedProcess } from '../src/envtest/process.ts';
import { resolveTool } from '../src/envtest/tools.ts';
import { collectionPath, ENDPOINT_SLICES, JOBS, NAMESPACES, type ResourceRef } from '../src/k8s/resource.ts';
import type { RestClient } from '../src/k8s/rest.ts';
import { WORKLOAD_RESOURCES } from '../src/api/workloads.ts';
import { median, sleep } from './bench-util.ts';

/** A resource Backlot watches, by its kube-state-metrics name, with the family that has one series per object. */
export interface PeerResource {
  /** The name --resources takes. */
  name: string;
  resource: ResourceRef;
  /** The family with exactly one series per object (every object has a creation time). */
  perObject: string;
}

/**
 * The built-in resources Backlot lists and watches (src/reconcilers/informers.ts): the workload
 * kinds, the Jobs of CronJobs, the EndpointSlices of Services, and Namespaces.
 */
export const PEER_RESOURCES: readonly PeerResource[] = [
  { name: 'deployments', resource: WORKLOAD_RESOURCES.Deployment, perObject: 'kube_deployment_created' },
  { name: 'statefulsets', resource: WORKLOAD_RESOURCES.StatefulSet, perObject: 'kube_statefulset_created' },
  { name: 'daemonsets', resource: WORKLOAD_RESOURCES.DaemonSet, perObject: 'kube_daemonset_created' },
  { name: 'cronjobs', resource: WORKLOAD_RESOURCES.CronJob, perObject: 'kube_cronjob_created' },
  { name: 'jobs', resource: JOBS, perObject: 'kube_job_created' },
  { name: 'services', resource: WORKLOAD_RESOURCES.Service, perObject: 'kube_service_created' },
  { name: 'endpointslices', resource: ENDPOINT_SLICES, perObject: 'kube_endpointslice_created' },
  { name: 'namespaces', resource: NAMESPACES, perObject: 'kube_namespace_created' },
];

/**
 * Counts the series of the given families in a Prometheus text exposition, fed in chunks as
 * they arrive (a scrape of a large world is hundreds of megabytes, never held whole). A series
 * line starts with its family's name, followed by `{` or a space; comments are skipped. Only
 * the names given are counted: nothing from the text becomes a key.
 */
export class SeriesCounter {
  private readonly counts: Map<string, number>;
  private partial = '';

  constructor(names: readonly string[]) {
    this.counts = new Map(names.map((n) => [n, 0]));
  }

  write(chunk: string): void {
    const text = this.partial + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      this.line(text, start, end);
      start = end + 1;
    }
    this.partial = text.slice(start);
  }

  /** The counts, once the whole text has been written. */
  end(): ReadonlyMap<string, number> {
    if (this.partial) this.line(this.partial, 0, this.partial.length);
    this.partial = '';
    return this.counts;
  }

  private line(text: string, start: number, end: number): void {
    if (start === end || text.charCodeAt(start) === 35 /* # */) return;
    let i = start;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === 123 /* { */ || c === 32 /* space */) break;
      i++;
    }
    const name = text.slice(start, i);
    const n = this.counts.get(name);
    if (n !== undefined) this.counts.set(name, n + 1);
  }
}

/** The series of each family in a whole exposition text. */
export function countSeries(text: string, names: readonly string[]): ReadonlyMap<string, number> {
  const counter = new SeriesCounter(names);
  counter.write(text);
  return counter.end();
}

/** What a scrape still lacks: `family have/want` for each family with fewer series than objects; empty when complete. */
export function missingSeries(counts: ReadonlyMap<string, number>, expected: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (const [name, want] of expected) {
    const have = counts.get(name) ?? 0;
    if (have < want) out.push(`${name} ${have}/${want}`);
  }
  return out;
}

type ListPage = { items: unknown[]; metadata?: { remainingItemCount?: number; continue?: string } };

/**
 * How many objects of each resource the API server holds, keyed by the family that has a
 * series per object: one LIST of one item each, whose remainingItemCount tells the rest (or,
 * should a server leave that count out, every page counted).
 */
export async function expectedSeries(client: RestClient, resources: readonly PeerResource[] = PEER_RESOURCES): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of resources) {
    const first = await client.request<ListPage>({ path: collectionPath(r.resource), query: { limit: 1 }, timeoutMs: 120_000 });
    let count = first.items.length;
    if (first.metadata?.remainingItemCount !== undefined) count += first.metadata.remainingItemCount;
    else {
      for (let cont = first.metadata?.continue; cont;) {
        const page = await client.request<ListPage>({ path: collectionPath(r.resource), query: { limit: 500, continue: cont }, timeoutMs: 120_000 });
        count += page.items.length;
        cont = page.metadata?.continue || undefined;
      }
    }
    out.set(r.perObject, count);
  }
  return out;
}

/** One scrape of `url`, counted as it streams in, and its size; rejects on a refused connection or a status other than 200. */
export function scrapeSeries(url: string, names: readonly string[], timeoutMs = 120_000): Promise<{ counts: ReadonlyMap<string, number>; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url}: ${res.statusCode}`));
        return;
      }
      const counter = new SeriesCounter(names);
      const decoder = new StringDecoder('utf8');
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        counter.write(decoder.write(chunk));
      });
      res.on('end', () => {
        counter.write(decoder.end());
        resolve({ counts: counter.end(), bytes });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The figures of one start of the peer. */
export interface PeerStart {
  /** From the process's start to the end of its first complete scrape. */
  scrapeMs: number;
  /** How long that complete scrape itself took (the figure's resolution), and its size. */
  lastScrapeMs: number;
  lastScrapeBytes: number;
  scrapes: number;
  /** CPU seconds (user + system) of the process when the complete scrape ended. */
  cpuSeconds: number;
  /** Resident set after the idle time. */
  rssBytes: number;
}

/** The medians over the starts (of an even count, the upper of the two middle ones, as bench.ts takes them). */
export interface PeerFigures {
  scrapeSeconds: number;
  cpuSeconds: number;
  rssBytes: number;
  starts: PeerStart[];
}

export interface PeerOptions {
  binary: string;
  kubeconfig: string;
  client: RestClient;
  /** Where each start's log goes. */
  workDir: string;
  starts: number;
  /** Idle time before the resident set is read. */
  steadyStateMs: number;
  /** CPU seconds a process has used so far (bench.ts reads /proc/<pid>/stat). */
  cpuSeconds: (pid: number | undefined) => Promise<number>;
  log: (line: string) => void;
  /** Longest wait for a complete scrape, per start. */
  timeoutMs?: number;
}

/** Pause between two scrapes that were not complete: a scrape costs the peer CPU too. */
const SCRAPE_INTERVAL_MS = 100;

/** The peer could not be built, started, or did not complete a scrape: the benchmark goes on without it. */
export class PeerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerError';
  }
}

/** The flags of one start: the plane's kubeconfig, the resources Backlot watches, free loopback ports. */
export function peerArgs(kubeconfig: string, ports: { metrics: number; telemetry: number }): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--resources=${PEER_RESOURCES.map((r) => r.name).join(',')}`,
    '--host=127.0.0.1',
    `--port=${ports.metrics}`,
    '--telemetry-host=127.0.0.1',
    `--telemetry-port=${ports.telemetry}`,
  ];
}

/** The last line of a log tail, as one line. */
const lastLine = (tail: string) => tail.split('\n').filter(Boolean).pop()?.trim() ?? '(no log written)';

async function startOnce(options: PeerOptions, n: number, expected: ReadonlyMap<string, number>): Promise<PeerStart> {
  const ports = { metrics: await freePort(), telemetry: await freePort() };
  const proc = new ManagedProcess({
    name: 'kube-state-metrics',
    binary: options.binary,
    args: peerArgs(options.kubeconfig, ports),
    logPath: join(options.workDir, `kube-state-metrics-${n}.log`),
    pidPath: join(options.workDir, 'kube-state-metrics.pid'),
  });
  const url = `http://127.0.0.1:${ports.metrics}/metrics`;
  const names = [...expected.keys()];
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const started = Date.now();
  await proc.start();
  try {
    let scrapes = 0;
    let missing: string[] = ['no answer yet'];
    let lastError = '';
    for (;;) {
      if (!proc.running) {
        const code = await proc.waitExit(1_000);
        throw new PeerError(`it exited with code ${code} before a complete scrape: ${lastLine(await proc.logTail(1))} (its log: ${proc.logPath})`);
      }
      if (Date.now() > deadline)
        throw new PeerError(
          `no complete scrape within ${options.timeoutMs ?? 10 * 60_000} ms (missing: ${missing.join(', ')}${lastError ? `; last error: ${lastError}` : ''}); see ${proc.logPath}`,
        );
      const scrapeStarted = Date.now();
      let scrape: { counts: ReadonlyMap<string, number>; bytes: number } | undefined;
      try {
        scrape = await scrapeSeries(url, names);
      } catch (err) {
        // Not listening yet (or a scrape cut short: the next one is as good).
        lastError = (err as Error).message;
      }
      if (scrape) {
        scrapes++;
        missing = missingSeries(scrape.counts, expected);
        if (missing.length === 0) {
          const at = Date.now();
          const cpuSeconds = await options.cpuSeconds(proc.pid);
          await sleep(options.steadyStateMs);
          const rssBytes = (await proc.rssBytes()) ?? NaN;
          return { scrapeMs: at - started, lastScrapeMs: at - scrapeStarted, lastScrapeBytes: scrape.bytes, scrapes, cpuSeconds, rssBytes };
        }
      }
      await sleep(scrape ? SCRAPE_INTERVAL_MS : 20);
    }
  } finally {
    await proc.stop();
  }
}

/**
 * Starts kube-state-metrics `starts` times on the plane, one after the other, and takes the
 * median of each figure. Throws a PeerError when a start fails.
 */
export async function measurePeer(options: PeerOptions): Promise<PeerFigures> {
  const expected = await expectedSeries(options.client);
  const objects = [...expected.values()].reduce((a, b) => a + b, 0);
  const starts: PeerStart[] = [];
  for (let n = 1; n <= options.starts; n++) {
    let s: PeerStart;
    // A free port can be taken between the probe and the bind: such a start is tried again on fresh ports.
    for (let attempt = 1; ; attempt++) {
      try {
        s = await startOnce(options, n, expected);
        break;
      } catch (err) {
        if (attempt >= 3 || !(err instanceof PeerError) || !err.message.includes('address already in use')) throw err;
      }
    }
    starts.push(s);
    options.log(
      `peer start ${n}: kube-state-metrics served a complete scrape (${objects} objects) ${s.scrapeMs / 1000} s after its start ` +
        `(scrape ${s.scrapes}, ${(s.lastScrapeBytes / 1e6).toFixed(1)} MB, which took ${s.lastScrapeMs / 1000} s), CPU ${s.cpuSeconds} s; ${Math.round(s.rssBytes / 1024 / 1024)} MiB resident after ${options.steadyStateMs / 1000} s idle`,
    );
  }
  return {
    scrapeSeconds: median(starts.map((s) => s.scrapeMs)) / 1000,
    cpuSeconds: median(starts.map((s) => s.cpuSeconds)),
    rssBytes: median(starts.map((s) => s.rssBytes)),
    starts,
  };
}

/** The RunResult fields of the peer: its medians, and Backlot's figures over them. */
export interface PeerResult {
  peerScrapeSeconds: number;
  peerCpuSeconds: number;
  peerRssBytes: number;
  /** Backlot's restart median over the peer's complete-scrape median. */
  peerRestartRatio: number;
  /** Backlot's steady-state resident set over the peer's. */
  peerMemoryRatio: number;
}

export function peerResult(peer: PeerFigures, backlot: { restartMs: number; rssBytes: number }): PeerResult {
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return {
    peerScrapeSeconds: peer.scrapeSeconds,
    peerCpuSeconds: peer.cpuSeconds,
    peerRssBytes: peer.rssBytes,
    peerRestartRatio: ratio(backlot.restartMs, peer.scrapeSeconds * 1000),
    peerMemoryRatio: ratio(backlot.rssBytes, peer.rssBytes),
  };
}

/** The peer's binary, built on first use; undefined (and one line saying why) when it cannot be had. */
export async function resolvePeer(log: (line: string) => void): Promise<string | undefined> {
  try {
    return await resolveTool('kube-state-metrics', { log: (line) => log(`[envtest] ${line}`) });
  } catch (err) {
    log(`peer: kube-state-metrics skipped: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/**
 * The peer's part of one size (after Backlot's restarts): its figures, or an empty object and
 * one line saying why when it could not run. `binary` is undefined when it could not be built.
 */
export async function runPeer(
  binary: string | undefined,
  options: Omit<PeerOptions, 'binary'>,
  backlot: { restartMs: number; rssBytes: number },
): Promise<Partial<PeerResult>> {
  if (!binary) return {};
  try {
    const peer = await measurePeer({ ...options, binary });
    const result = peerResult(peer, backlot);
    options.log(
      `peer: kube-state-metrics, median of ${options.starts}: complete scrape ${peer.scrapeSeconds} s (Backlot's restart ${backlot.restartMs / 1000} s, ratio ${result.peerRestartRatio}), ` +
        `CPU ${peer.cpuSeconds} s, ${Math.round(peer.rssBytes / 1024 / 1024)} MiB resident (Backlot ${Math.round(backlot.rssBytes / 1024 / 1024)} MiB, ratio ${result.peerMemoryRatio})`,
    );
    return result;
  } catch (err) {
    options.log(`peer: kube-state-metrics skipped: ${(err as Error).message.split('\n')[0]}`);
    return {};
  }
}

/** The peer's lines of the table: one per size that has its figures. */
export function peerTable(results: readonly ({ workloads: number } & Partial<PeerResult>)[]): string[] {
  const rows = results.filter((r) => r.peerScrapeSeconds !== undefined);
  if (rows.length === 0) return [];
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  const out = [
    '',
    'peer, kube-state-metrics (median of its starts; ratios are Backlot over the peer):',
    'workloads  complete scrape  restart ratio  CPU        rss        memory ratio',
  ];
  for (const r of rows) {
    out.push(
      `${String(r.workloads).padEnd(10)} ${`${r.peerScrapeSeconds} s`.padEnd(16)} ${String(r.peerRestartRatio).padEnd(14)} ${`${r.peerCpuSeconds} s`.padEnd(10)} ${mib(r.peerRssBytes!).padEnd(10)} ${r.peerMemoryRatio}`,
    );
  }
  return out;
}
