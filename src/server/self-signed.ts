/**
 * X.509 certificates made in the process: the metrics server's self-signed serving
 * certificate when no certificate is mounted (as controller-runtime makes one), and the
 * building blocks the local control plane's throwaway PKI uses (src/envtest/pki.ts).
 * ECDSA P-256 keeps generation to milliseconds.
 *
 * @peculiar/x509 builds the certificates: Node's crypto makes keys but cannot issue X.509. Its
 * dependency injection needs the reflect-metadata polyfill loaded first. Both are run-time
 * dependencies for this module alone, which the metrics server loads only when it needs a
 * certificate of its own (`await import`), so no other start pays for them.
 */
import 'reflect-metadata';
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const DAY_MS = 24 * 60 * 60 * 1000;

export async function newKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
}

/** PKCS#8 PEM. */
export function privateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A positive 16-byte serial number, in hex. */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** The extensions of an end-entity certificate for `usage`, naming `names` (DNS names and IP addresses). */
export function leafExtensions(usage: 'server' | 'client', names: readonly string[] = []): x509.Extension[] {
  const san = names.map((value) => ({ type: isIP(value) ? ('ip' as const) : ('dns' as const), value }));
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    ...(san.length > 0 ? [new x509.SubjectAlternativeNameExtension(san, false)] : []),
  ];
}

export interface SelfSignedOptions {
  /** DNS names and IP addresses the certificate names (the first DNS name is also its CN). */
  names: readonly string[];
  now: Date;
  /** 365 days by default. */
  validityMs?: number;
}

/** A self-signed serving certificate and its key, PEM. Nothing is written to disk. */
export async function selfSignedServingCertificate(options: SelfSignedOptions): Promise<{ cert: string; key: string }> {
  const keys = await newKeyPair();
  const cn = options.names.find((n) => !isIP(n)) ?? 'backlot';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${cn}, O=backlot`,
    notBefore: new Date(options.now.getTime() - 60_000),
    notAfter: new Date(options.now.getTime() + (options.validityMs ?? 365 * DAY_MS)),
    keys,
    signingAlgorithm: ECDSA_P256,
    extensions: leafExtensions('server', options.names),
  });
  return { cert: cert.toString('pem'), key: privateKeyPem(keys.privateKey) };
}
