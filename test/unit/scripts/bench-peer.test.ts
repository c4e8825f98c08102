import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WORKLOAD_RESOURCES } from '../../../src/api/workloads.ts';
import { resourceName } from '../../../src/k8s/resource.ts';
import type { RestClient } from '../../../src/k8s/rest.ts';
import { countSeries, expectedSeries, missingSeries, PEER_RESOURCES, peerArgs, peerResult, scrapeSeries, SeriesCounter } from '../../../scripts/bench-peer.ts';

const NAMES = ['kube_deployment_created', 'kube_service_created'];

const EXPOSITION = [
  '# HELP kube_deployment_created Unix creation timestamp',
  '# TYPE kube_deployment_created gauge',
  'kube_deployment_created{namespace="a",deployment="web"} 1.7e+09',
  'kube_deployment_created{namespace="a",deployment="api"} 1.7e+09',
  'kube_deployment_created_total{namespace="a"} 3',
  'kube_deployment_createdx 1',
  'kube_deployment_spec_replicas{namespace="a",deployment="web"} 2',
  '# kube_service_created{namespace="a",service="in-a-comment"} 1',
  'kube_service_created{namespace="a",service="web"} 1.7e+09',
  'kube_service_created 1',
  '',
].join('\n');

describe("the peer's scrape-completeness check", () => {
  it('counts the series of each family named, and nothing of families that only share a prefix or of comments', () => {
    expect(Object.fromEntries(countSeries(EXPOSITION, NAMES))).toEqual({ kube_deployment_created: 2, kube_service_created: 2 });
    expect(Object.fromEntries(countSeries('', NAMES))).toEqual({ kube_deployment_created: 0, kube_service_created: 0 });
  });

  it('counts the same however the text is cut into chunks, a last line without a newline included', () => {
    const whole = Object.fromEntries(countSeries(EXPOSITION.trimEnd(), NAMES));
    expect(whole).toEqual({ kube_deployment_created: 2, kube_service_created: 2 });
    for (let size = 1; size <= 40; size += 3) {
      const counter = new SeriesCounter(NAMES);
      const text = EXPOSITION.trimEnd();
      for (let i = 0; i < text.length; i += size) counter.write(text.slice(i, i + size));
      expect(Object.fromEntries(counter.end())).toEqual(whole);
    }
  });

  it('never takes a name from the text as a key', () => {
    const counts = countSeries('__proto__{a="b"} 1\nconstructor 1\nkube_service_created 1\n', ['kube_service_created']);
    expect([...counts.entries()]).toEqual([['kube_service_created', 1]]);
  });

  it('says what a scrape lacks, and nothing once every object has its series', () => {
    const expected = new Map([
      ['kube_deployment_created', 2],
      ['kube_service_created', 3],
      ['kube_job_created', 0],
    ]);
    expect(missingSeries(countSeries(EXPOSITION, [...expected.keys()]), expected)).toEqual(['kube_service_created 2/3']);
    expect(
      missingSeries(
        new Map([
          ['kube_deployment_created', 2],
          ['kube_service_created', 3],
        ]),
        expected,
      ),
    ).toEqual([]);
  });

  it('counts a scrape served over HTTP in pieces, and rejects an answer other than 200', async () => {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      // A large answer, written in pieces that cut lines anywhere.
      const body = EXPOSITION.repeat(2000);
      for (let i = 0; i < body.length; i += 4099) res.write(body.slice(i, i + 4099));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const { counts, bytes } = await scrapeSeries(`http://127.0.0.1:${port}/metrics`, NAMES);
      expect(Object.fromEntries(counts)).toEqual({ kube_deployment_created: 4000, kube_service_created: 4000 });
      expect(bytes).toBe(Buffer.byteLength(EXPOSITION) * 2000);
      await expect(scrapeSeries(`http://127.0.0.1:${port}/other`, NAMES)).rejects.toThrow('404');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** A RestClient that answers paged LISTs of `total` items, with or without remainingItemCount. */
function listingClient(total: number, withCount: boolean): { client: RestClient; requests: number } {
  const state = { requests: 0 };
  const client = {
    request: (req: { query?: { limit?: number; continue?: string } }) => {
      state.requests++;
      const from = Number(req.query?.continue ?? 0);
      const to = Math.min(total, from + (req.query?.limit ?? total));
      const more = to < total;
      return Promise.resolve({
        items: Array.from({ length: to - from }, (_, i) => ({ metadata: { name: `o-${from + i}` } })),
        metadata: { ...(more ? { continue: String(to) } : {}), ...(more && withCount ? { remainingItemCount: total - to } : {}) },
      });
    },
  } as unknown as RestClient;
  return {
    client,
    get requests() {
      return state.requests;
    },
  };
}

describe('the objects the peer must show', () => {
  const resources = PEER_RESOURCES.slice(0, 1);

  it('are counted from one LIST of one item and its remainingItemCount', async () => {
    const fake = listingClient(1234, true);
    expect(Object.fromEntries(await expectedSeries(fake.client, resources))).toEqual({ kube_deployment_created: 1234 });
    expect(fake.requests).toBe(1);
  });

  it('are counted page by page where the server leaves the count out, and none is none', async () => {
    const fake = listingClient(1234, false);
    expect(Object.fromEntries(await expectedSeries(fake.client, resources))).toEqual({ kube_deployment_created: 1234 });
    expect(fake.requests).toBe(4);
    expect(Object.fromEntries(await expectedSeries(listingClient(0, false).client, resources))).toEqual({ kube_deployment_created: 0 });
  });
});

describe('the peer', () => {
  it('watches every built-in resource Backlot lists, each once', () => {
    const names = PEER_RESOURCES.map((r) => resourceName(r.resource));
    expect(new Set(names).size).toBe(names.length);
    for (const r of Object.values(WORKLOAD_RESOURCES)) expect(names).toContain(resourceName(r));
    expect(names).toEqual(expect.arrayContaining(['jobs.batch', 'endpointslices.discovery.k8s.io', 'namespaces']));
    const args = peerArgs('/k/config', { metrics: 9001, telemetry: 9002 });
    expect(args).toContain(`--resources=${PEER_RESOURCES.map((r) => r.name).join(',')}`);
    expect(args).toEqual(expect.arrayContaining(['--kubeconfig=/k/config', '--host=127.0.0.1', '--port=9001', '--telemetry-port=9002']));
  });

  it('reports Backlot over the peer: restart over complete scrape, resident over resident', () => {
    const peer = { scrapeSeconds: 1.6, cpuSeconds: 2.1, rssBytes: 100 * 2 ** 20, starts: [] };
    expect(peerResult(peer, { restartMs: 2400, rssBytes: 150 * 2 ** 20 })).toEqual({
      peerScrapeSeconds: 1.6,
      peerCpuSeconds: 2.1,
      peerRssBytes: 100 * 2 ** 20,
      peerRestartRatio: 1.5,
      peerMemoryRatio: 1.5,
    });
  });
});
