import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, describe, expect, it } from 'vitest';
import { AscendError } from '../core/errors.js';
import { buildP12, certificateMatchesKey, makeCsr, newPassword, newRsaKey } from './crypto.js';
import { SigningKeyStore } from './key-store.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A certificate for `key` signed by a throwaway issuer, as a stand-in for Apple's answer. */
function certFor(privateKeyPem: string): Buffer {
  const pub = forge.pki.privateKeyFromPem(
    createPrivateKey(privateKeyPem).export({ format: 'pem', type: 'pkcs1' }).toString(),
  ) as forge.pki.rsa.PrivateKey;
  const issuer = forge.pki.privateKeyFromPem(
    createPrivateKey(newRsaKey()).export({ format: 'pem', type: 'pkcs1' }).toString(),
  );
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(pub.n, pub.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.UTC(2026, 0, 1));
  cert.validity.notAfter = new Date(Date.UTC(2027, 0, 1));
  cert.setSubject([{ name: 'commonName', value: 'Apple Distribution: Test (TEAM)' }]);
  cert.setIssuer([{ name: 'commonName', value: 'issuer' }]);
  cert.sign(issuer, forge.md.sha256.create());
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

describe('signing key material', () => {
  it('makes an RSA 2048 key and a SHA-256 CSR for it that verifies', () => {
    const key = newRsaKey();
    const csr = forge.pki.certificationRequestFromPem(makeCsr(key, 'ascend com.example.app'));
    expect(csr.verify()).toBe(true);
    expect((csr.publicKey as forge.pki.rsa.PublicKey).n.bitLength()).toBe(2048);
    expect(csr.siginfo.algorithmOid).toBe(forge.pki.oids.sha256WithRSAEncryption);
  });

  it('builds a .p12 with 3DES bags that opens with its password only, key matching certificate', () => {
    const key = newRsaKey();
    const der = certFor(key);
    expect(certificateMatchesKey(der, key)).toBe(true);
    expect(certificateMatchesKey(der, newRsaKey())).toBe(false);
    const password = newPassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const p12 = buildP12(key, der, password, 'Apple Distribution (01)');
    const asn1 = forge.asn1.fromDer(p12.toString('binary'));
    const parsed = forge.pkcs12.pkcs12FromAsn1(asn1, password);
    const keyBag = parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[
      forge.pki.oids.pkcs8ShroudedKeyBag!
    ]![0]!;
    const certBag = parsed.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!]![0]!;
    expect(keyBag.attributes.friendlyName).toEqual(['Apple Distribution (01)']);
    const keyPem = forge.pki.privateKeyToPem(keyBag.key!);
    expect(
      new X509Certificate(forge.pki.certificateToPem(certBag.cert!)).checkPrivateKey(createPrivateKey(keyPem)),
    ).toBe(true);
    // pbeWithSHAAnd3-KeyTripleDES-CBC (1.2.840.113549.1.12.1.3) appears in the file: OpenSSL 3 reads it without -legacy.
    expect(p12.includes(Buffer.from('2a864886f70d010c0103', 'hex'))).toBe(true);
    expect(() => forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(p12.toString('binary')), 'wrong')).toThrow();
  });

  it('the key store is owner-only and refuses a key file others can read', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ascend-keys-'));
    dirs.push(home);
    const store = new SigningKeyStore(home);
    const entry = {
      certificateId: 'CERT1',
      certificateType: 'DISTRIBUTION',
      serialNumber: '01',
      expirationDate: '2027-01-01T00:00:00.000Z',
      certificateContent: '',
      privateKeyPem: 'secret',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    await store.save(entry);
    expect(await store.ids()).toEqual(['CERT1']);
    expect((await store.get('CERT1'))?.privateKeyPem).toBe('secret');
    chmodSync(join(home, 'signing', 'certificates', 'CERT1.json'), 0o644);
    const err = await store.get('CERT1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AscendError);
    expect((err as AscendError).code).toBe('KEY_FILE_PERMISSIONS');
    expect((err as AscendError).remedy).toContain('ascend signing revoke CERT1');
    expect(await store.remove('CERT1')).toBe(true);
    expect(await store.ids()).toEqual([]);
  });
});
