import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import type { Clock } from '../../src/core/clock.js';
import type { Store } from '../store.js';

/**
 * The simulator's own "Apple" certificate authority: a root, a "Worldwide Developer Relations" intermediate
 * that issues developer certificates from CSRs, and a "Provisioning Profile Signing" certificate that signs
 * profiles as CMS, like Apple's chain (Apple Root CA → WWDR / iPhone Certification Authority → leaf). It is
 * not Apple's: clients trust it only as an extra root, by its SHA-256 fingerprint (`GET /__sim/provisioning/ca`).
 * The keys live in the store (a hidden record) so a `--state-file` simulator keeps verifying its old profiles.
 */
export interface CaMaterial {
  rootPem: string;
  rootKeyPem: string;
  wwdrPem: string;
  wwdrKeyPem: string;
  signerPem: string;
  signerKeyPem: string;
}

export interface Ca {
  readonly material: CaMaterial;
  /** SHA-256 of the root certificate's DER, upper-case hex with colons (as `openssl x509 -fingerprint`). */
  readonly rootFingerprint: string;
  /** Issues a certificate for the CSR's public key; the subject is the CA's choice, as at Apple. */
  issue(
    publicKey: forge.pki.rsa.PublicKey,
    subject: forge.pki.CertificateField[],
    now: number,
    days: number,
  ): IssuedCert;
  /** CMS SignedData (DER) over `content`, with the signer, intermediate and root embedded. */
  signCms(content: Buffer): Buffer;
}

export interface IssuedCert {
  der: Buffer;
  serialNumber: string;
  notAfter: Date;
}

const CA_TYPE = '__simProvisioningCa';
const DAY_MS = 86_400_000;

function rsaKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'pem', type: 'pkcs1' })
    .toString();
}

/** Serial numbers: 8 random bytes, first bit clear so the DER INTEGER stays positive. */
function serial(): string {
  const b = randomBytes(8);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex').toUpperCase();
}

function makeCert(opts: {
  subject: forge.pki.CertificateField[];
  issuer: forge.pki.Certificate | undefined;
  publicKey: forge.pki.PublicKey;
  signKeyPem: string;
  now: number;
  days: number;
  ca: boolean;
  extKeyUsage?: Record<string, boolean>;
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = opts.publicKey;
  cert.serialNumber = serial();
  // X.509 times have whole seconds; rounding here keeps the API's expirationDate equal to the certificate's.
  const now = Math.floor(opts.now / 1000) * 1000;
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + opts.days * DAY_MS);
  cert.setSubject(opts.subject);
  cert.setIssuer(opts.issuer ? opts.issuer.subject.attributes : opts.subject);
  const exts: object[] = [
    { name: 'basicConstraints', cA: opts.ca, critical: true },
    opts.ca
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (opts.extKeyUsage) exts.push({ name: 'extKeyUsage', ...opts.extKeyUsage });
  cert.setExtensions(exts);
  cert.sign(forge.pki.privateKeyFromPem(opts.signKeyPem), forge.md.sha256.create());
  return cert;
}

function newMaterial(now: number): CaMaterial {
  const rootKeyPem = rsaKeyPem();
  const wwdrKeyPem = rsaKeyPem();
  const signerKeyPem = rsaKeyPem();
  const pub = (pem: string) => forge.pki.setRsaPublicKey(...nE(pem));
  const org = [
    { name: 'organizationName', value: 'Apple Inc. (ascend simulator)' },
    { name: 'countryName', value: 'US' },
  ];
  const root = makeCert({
    subject: [{ name: 'commonName', value: 'ascend simulator Apple Root CA' }, ...org],
    issuer: undefined,
    publicKey: pub(rootKeyPem),
    signKeyPem: rootKeyPem,
    now,
    days: 3650,
    ca: true,
  });
  const wwdr = makeCert({
    subject: [
      { name: 'commonName', value: 'ascend simulator Worldwide Developer Relations Certification Authority' },
      { name: 'organizationalUnitName', value: 'G3' },
      ...org,
    ],
    issuer: root,
    publicKey: pub(wwdrKeyPem),
    signKeyPem: rootKeyPem,
    now,
    days: 3650,
    ca: true,
  });
  const signer = makeCert({
    subject: [{ name: 'commonName', value: 'ascend simulator iPhone OS Provisioning Profile Signing' }, ...org],
    issuer: wwdr,
    publicKey: pub(signerKeyPem),
    signKeyPem: wwdrKeyPem,
    now,
    days: 3650,
    ca: false,
  });
  const pem = (c: forge.pki.Certificate) => forge.pki.certificateToPem(c);
  return { rootPem: pem(root), rootKeyPem, wwdrPem: pem(wwdr), wwdrKeyPem, signerPem: pem(signer), signerKeyPem };
}

function nE(pem: string): [forge.jsbn.BigInteger, forge.jsbn.BigInteger] {
  const k = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return [k.n, k.e];
}

/** Loads the CA kept in the store, or makes one (about 0.3 s for three RSA keys) on first use. */
export function loadOrCreateCa(store: Store, clock: Clock): Ca {
  let rec = store.list(CA_TYPE)[0];
  if (!rec) {
    rec = store.insert({
      type: CA_TYPE,
      teamId: '',
      attributes: {},
      rels: {},
      internal: { ca: newMaterial(clock.now()) },
    });
    store.save();
  }
  return caFrom(rec.internal!.ca!);
}

export function caFrom(material: CaMaterial): Ca {
  const root = forge.pki.certificateFromPem(material.rootPem);
  const wwdr = forge.pki.certificateFromPem(material.wwdrPem);
  const signer = forge.pki.certificateFromPem(material.signerPem);
  const fingerprint = new X509Certificate(material.rootPem).fingerprint256;
  return {
    material,
    rootFingerprint: fingerprint,
    issue(publicKey, subject, now, days) {
      const cert = makeCert({
        subject,
        issuer: wwdr,
        publicKey,
        signKeyPem: material.wwdrKeyPem,
        now,
        days,
        ca: false,
        extKeyUsage: { codeSigning: true },
      });
      return issued(cert);
    },
    signCms(content) {
      const p7 = forge.pkcs7.createSignedData();
      p7.content = forge.util.createBuffer(content.toString('binary'));
      p7.addCertificate(signer);
      p7.addCertificate(wwdr);
      p7.addCertificate(root);
      p7.addSigner({
        key: forge.pki.privateKeyFromPem(material.signerKeyPem),
        certificate: signer,
        digestAlgorithm: forge.pki.oids.sha256!,
        authenticatedAttributes: [
          { type: forge.pki.oids.contentType!, value: forge.pki.oids.data! },
          { type: forge.pki.oids.messageDigest! },
        ],
      });
      p7.sign();
      return Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), 'binary');
    },
  };
}

function issued(cert: forge.pki.Certificate): IssuedCert {
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { der, serialNumber: cert.serialNumber.toUpperCase(), notAfter: cert.validity.notAfter };
}

/** SHA-256 of a DER certificate, as a stable key for matching certificates to profiles. */
export function derDigest(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
