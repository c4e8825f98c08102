/**
 * Throwaway certificates for a local control plane: one CA, a serving certificate for the
 * API server (SAN 127.0.0.1, localhost and the in-cluster service names), a client
 * certificate in `system:masters` for the admin kubeconfig, client certificates for the
 * realistic cluster's kube-controller-manager and kube-scheduler (the user names the API
 * server's bootstrap RBAC policy binds) and kwok, and a service-account signing key so that
 * TokenRequest works. ECDSA P-256 keeps generation to milliseconds.
 *
 * @peculiar/x509 builds the certificates: Node's crypto makes keys but cannot issue X.509;
 * its dependency injection needs the reflect-metadata polyfill loaded first.
 */
import 'reflect-metadata';
import { webcrypto, KeyObject, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

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

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

function privatePem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

function publicPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'spki', format: 'pem' }).toString();
}

function serial(): string {
  // A positive 16-byte serial: clear the top bit.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
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
  const san = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: options.subject,
    issuer: options.issuer.cert.subject,
    notBefore: new Date(options.now.getTime() - 60_000),
    notAfter: new Date(options.now.getTime() + 7 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: options.issuer.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(
        [options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      ...(san.length > 0 ? [new x509.SubjectAlternativeNameExtension(san, false)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: privatePem(keys.privateKey) };
}

/** Generates a fresh PKI. Nothing is written to disk here. */
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
