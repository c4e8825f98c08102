/**
 * Loopback ports and health probes for the local processes (etcd, kube-apiserver, the
 * realistic cluster's components, the operator, the servers tests start): a free port to give
 * a process, whether a port is taken, and one GET of a health endpoint.
 */
import { createServer } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

export interface Probe {
  status: number;
  body: string;
}

/**
 * One GET with a two-second timeout. `tls` verifies the server against the plane's CA and
 * presents a client certificate; `insecure` accepts any server certificate, for components
 * that serve a self-signed one (kube-controller-manager and kube-scheduler on /healthz).
 */
export function probe(url: string, tls?: { ca: string; cert: string; key: string } | { insecure: true }): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const options = { timeout: 2_000, ...(tls && 'insecure' in tls ? { rejectUnauthorized: false } : (tls ?? {})) };
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
