/**
 * Throwaway certificates for a local control plane: one CA, a serving certificate for the
 * API server (SAN 127.0.0.1, localhost and the in-cluster service names), a client
 * certificate in `system:masters` for the admin kubeconfig, client certificates for the
 * realistic cluster's kube-controller-manager and kube-scheduler (the user names the API
 * server's bootstrap RBAC policy binds) and kwok, and a service-account signing key so that
 * TokenRequest works, built as the metrics server builds its own certificate
 * (src/server/self-signed.ts).
 */
import { KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DAY_MS,
  ECDSA_P256 as ALG,
  leafExtensions,
  newKeyPair as keyPair,
  privateKeyPem as privatePem,
  serialNumber as serial,
  x509,
  type CryptoKey,
  type CryptoKeyPair,
} from '../server/self-signed.ts';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface ControlPlanePki {
  ca: PemPair;
  serving: PemPair;
  admin: PemPair;
  /** system:kube-controller-manager, bound by the bootstrap policy to what it needs. */
  controllerManager: PemPair;
  /** system:kube-scheduler, likewise. */
  scheduler: PemPair;
  /** kwok, which writes the status of every node and pod it plays: in system:masters. */
  kwok: PemPair;
  /** PKCS#8 private key that signs service-account tokens. */
  serviceAccountKeyPem: string;
  /** SPKI public key that verifies them. */
  serviceAccountPublicKeyPem: string;
}

function publicPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'spki', format: 'pem' }).toString();
}

interface LeafOptions {
  subject: string;
  issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair };
  usage: 'server' | 'client';
  dnsNames?: string[];
  ips?: string[];
  now: Date;
}

async function leaf(options: LeafOptions): Promise<PemPair> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: options.subject,
    issuer: options.issuer.cert.subject,
    notBefore: new Date(options.now.getTime() - 60_000),
    notAfter: new Date(options.now.getTime() + 7 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: options.issuer.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: leafExtensions(options.usage, [...(options.dnsNames ?? []), ...(options.ips ?? [])]),
  });
  return { certPem: cert.toString('pem'), keyPem: privatePem(keys.privateKey) };
}

/** Generates a fresh PKI. Nothing is written to disk here (writePki does that). */
export async function generatePki(now: Date = new Date()): Promise<ControlPlanePki> {
  const caKeys = await keyPair();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=backlot-envtest-ca',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 7 * DAY_MS),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const issuer = { cert: caCert, keys: caKeys };
  const serving = await leaf({
    subject: 'CN=kube-apiserver',
    issuer,
    usage: 'server',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ips: ['127.0.0.1', '10.0.0.1'],
    now,
  });
  const client = (subject: string) => leaf({ subject, issuer, usage: 'client', now });
  const admin = await client('CN=backlot-admin, O=system:masters');
  const controllerManager = await client('CN=system:kube-controller-manager');
  const scheduler = await client('CN=system:kube-scheduler');
  const kwok = await client('CN=kwok-controller, O=system:masters');
  const saKeys = await keyPair();
  return {
    ca: { certPem: caCert.toString('pem'), keyPem: privatePem(caKeys.privateKey) },
    serving,
    admin,
    controllerManager,
    scheduler,
    kwok,
    serviceAccountKeyPem: privatePem(saKeys.privateKey),
    serviceAccountPublicKeyPem: publicPem(saKeys.publicKey),
  };
}

/**
 * Writes what the API server reads into `dir` (made if need be): ca.crt, ca.key, serving.crt,
 * serving.key, sa.key and sa.pub, the private keys mode 0600.
 */
export async function writePki(dir: string, pki: ControlPlanePki): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(join(dir, 'ca.crt'), pki.ca.certPem),
    writeFile(join(dir, 'ca.key'), pki.ca.keyPem, { mode: 0o600 }),
    writeFile(join(dir, 'serving.crt'), pki.serving.certPem),
    writeFile(join(dir, 'serving.key'), pki.serving.keyPem, { mode: 0o600 }),
    writeFile(join(dir, 'sa.key'), pki.serviceAccountKeyPem, { mode: 0o600 }),
    writeFile(join(dir, 'sa.pub'), pki.serviceAccountPublicKeyPem),
  ]);
}
