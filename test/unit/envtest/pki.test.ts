import { describe, expect, it } from '@jest/globals';
import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { generatePki } from '../../../src/envtest/pki.ts';

describe('throwaway PKI', () => {
  it('issues a serving certificate for loopback and the in-cluster names, signed by the CA', async () => {
    const pki = await generatePki(new Date('2026-11-21T00:00:00Z'));
    const ca = new X509Certificate(pki.ca.certPem);
    const serving = new X509Certificate(pki.serving.certPem);
    expect(ca.ca).toBe(true);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(serving.checkHost('localhost')).toBe('localhost');
    expect(serving.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(serving.checkHost('example.com')).toBeUndefined();
    expect(serving.checkPrivateKey(createPrivateKey(pki.serving.keyPem))).toBe(true);
  });

  it('issues an admin client certificate in system:masters', async () => {
    const pki = await generatePki();
    const admin = new X509Certificate(pki.admin.certPem);
    expect(admin.subject).toContain('O=system:masters');
    expect(admin.verify(new X509Certificate(pki.ca.certPem).publicKey)).toBe(true);
    expect(admin.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it("issues the realistic cluster's components the user names the bootstrap RBAC policy binds", async () => {
    const pki = await generatePki();
    const ca = new X509Certificate(pki.ca.certPem);
    const subjects = [pki.controllerManager, pki.scheduler, pki.kwok].map((pair) => {
      const cert = new X509Certificate(pair.certPem);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
      return cert.subject;
    });
    expect(subjects).toEqual(['CN=system:kube-controller-manager', 'CN=system:kube-scheduler', 'CN=kwok-controller\nO=system:masters']);
  });

  it('makes a service-account key pair whose halves match', async () => {
    const pki = await generatePki();
    const data = Buffer.from('token');
    const signature = sign('sha256', data, createPrivateKey(pki.serviceAccountKeyPem));
    expect(verify('sha256', data, createPublicKey(pki.serviceAccountPublicKeyPem), signature)).toBe(true);
  });
});
