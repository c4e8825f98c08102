/**
 * GET over HTTPS the way Prometheus scrapes a secure metrics target: a bearer token, and either the
 * server's CA or no verification (insecureSkipVerify, for a self-signed certificate). Also
 * tells which certificate the server presented, for tests of rotation.
 */
import { request, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint256: string;
}

export interface HttpsGetOptions {
  token?: string;
  ca?: string;
  headers?: Record<string, string>;
  /** Keep-alive connections, as Prometheus keeps them; by default a fresh connection each time, so a rotated certificate shows on the next request. */
  agent?: Agent;
}

export function httpsGet(url: string, options: HttpsGetOptions = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}), ...options.headers },
        agent: options.agent ?? false,
        ...(options.ca ? { ca: options.ca } : { rejectUnauthorized: false }),
        timeout: 30_000,
      },
      (res) => {
        const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), fingerprint256 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}
