import { createHash, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { makeProfile, SAMPLE_ROOT_CERT_PEM, SAMPLE_ROOT_SHA256 } from '../sample/builder.js';
import { SAMPLE_ROOT_KEY_PEM } from '../sample/test-root.js';
import { parseProfile } from './profile.js';
import { APPLE_ANCHORS, APPLE_ROOT_SHA256, chainToAnchor, normaliseFingerprint, trustAnchors } from './trust.js';

describe('profile signature trust', () => {
  it('pins Apple Root CA, G2 and G3, and its embedded copy of Apple Root CA matches the pin', () => {
    expect(Object.keys(APPLE_ROOT_SHA256)).toEqual(['Apple Root CA', 'Apple Root CA - G2', 'Apple Root CA - G3']);
    const [embedded] = APPLE_ANCHORS.certs;
    expect(createHash('sha256').update(embedded!).digest('hex')).toBe(APPLE_ROOT_SHA256['Apple Root CA']);
    expect(new X509Certificate(embedded!).subject).toContain('CN=Apple Root CA');
  });

  it('trusts the sample root only when its fingerprint is passed as an extra root', async () => {
    const profile = makeProfile('com.example.app');
    const untrusted = await parseProfile(profile, 'p');
    expect(untrusted).toMatchObject({ signatureValid: true, signerTrusted: false });
    expect(untrusted.trustProblem).toMatch(/chain ends at "ascend sample profile signing root.*not at an Apple root/);
    const trusted = await parseProfile(profile, 'p', { anchors: trustAnchors([SAMPLE_ROOT_SHA256]) });
    expect(trusted).toMatchObject({ signerTrusted: true, trustProblem: null });
    expect(SAMPLE_ROOT_SHA256).toBe(
      new X509Certificate(SAMPLE_ROOT_CERT_PEM).fingerprint256.replaceAll(':', '').toLowerCase(),
    );
  });

  it('a foreign self-signed certificate is not trusted whatever extra root is given', async () => {
    const p = await parseProfile(makeProfile('com.example.app', { signer: 'foreign' }), 'p', {
      anchors: trustAnchors([SAMPLE_ROOT_SHA256]),
    });
    expect(p).toMatchObject({
      signatureValid: true,
      signerTrusted: false,
      signer: 'ascend test profile signing (not Apple)',
    });
  });

  it('refuses a chain link whose signature does not verify, even when the names match', () => {
    const [apple] = APPLE_ANCHORS.certs;
    const appleCert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(apple!.toString('binary')));
    const key = forge.pki.privateKeyFromPem(SAMPLE_ROOT_KEY_PEM) as forge.pki.rsa.PrivateKey;
    const forged = forge.pki.createCertificate();
    forged.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    forged.serialNumber = '02';
    forged.validity.notBefore = new Date(Date.UTC(2020, 0, 1));
    forged.validity.notAfter = new Date(Date.UTC(2030, 0, 1));
    forged.setSubject([{ name: 'commonName', value: 'Apple iPhone OS Provisioning Profile Signing' }]);
    forged.setIssuer(appleCert.subject.attributes);
    forged.sign(key, forge.md.sha256.create());
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forged)).getBytes(), 'binary');
    expect(new X509Certificate(der).checkIssued(new X509Certificate(apple!))).toBe(true);
    const r = chainToAnchor(der, [apple!], APPLE_ANCHORS);
    expect(r).toMatchObject({ trusted: false, signer: 'Apple iPhone OS Provisioning Profile Signing' });
    expect(r.problem).toMatch(/chain ends at "Apple iPhone OS Provisioning Profile Signing"/);
    expect(chainToAnchor(Buffer.from('junk'), [], APPLE_ANCHORS)).toMatchObject({
      trusted: false,
      problem: 'the signing certificate cannot be read',
    });
  });

  it('normalises fingerprints and refuses anything else with a usage error', () => {
    const colons = SAMPLE_ROOT_SHA256.toUpperCase().match(/../g)!.join(':');
    expect(normaliseFingerprint(colons)).toBe(SAMPLE_ROOT_SHA256);
    expect(normaliseFingerprint('abc')).toBeNull();
    expect(() => trustAnchors(['not-a-fingerprint'])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('CMS reader bounds', () => {
  it('refuses nesting deeper than 64 levels with a clear message, not a stack overflow', async () => {
    const n = 100_000;
    const b = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) b.set([0x30, 0x80], i * 2);
    await expect(parseProfile(b, 'p')).rejects.toMatchObject({
      code: 'PROFILE_INVALID',
      message: 'p is not a readable CMS SignedData structure (nests deeper than 64 levels)',
    });
  });
});
