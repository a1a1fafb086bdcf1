import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/**
 * The key material of code signing, made locally: an RSA 2048 key (node:crypto; Apple accepts no other size
 * for distribution certificates), its PKCS#10 request (node-forge, SHA-256), and the `.p12` a build machine
 * imports. The private key never leaves this machine except inside the password-protected `.p12`.
 */

export function newRsaKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

function forgeKey(privateKeyPem: string): forge.pki.rsa.PrivateKey {
  // forge reads PKCS#1 RSA keys most reliably; node:crypto converts.
  const pkcs1 = createPrivateKey(privateKeyPem).export({ format: 'pem', type: 'pkcs1' }).toString();
  return forge.pki.privateKeyFromPem(pkcs1) as forge.pki.rsa.PrivateKey;
}

/**
 * A CSR as Keychain Access makes one (emailAddress, CN, C). Apple ignores the subject and writes its own,
 * so the values only help a person reading the request.
 */
export function makeCsr(privateKeyPem: string, commonName: string): string {
  const key = forgeKey(privateKeyPem);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([
    { name: 'commonName', value: commonName },
    { name: 'countryName', value: 'US' },
  ]);
  csr.sign(key, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/** Whether a DER certificate is for this private key. */
export function certificateMatchesKey(certDer: Buffer, privateKeyPem: string): boolean {
  try {
    return new X509Certificate(certDer).checkPrivateKey(createPrivateKey(privateKeyPem));
  } catch {
    return false;
  }
}

/** The SPKI of a certificate, for matching a certificate Apple lists to a key we hold. */
export function spkiOfCertificate(certDer: Buffer): string {
  return new X509Certificate(certDer).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

export function spkiOfKey(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ format: 'der', type: 'spki' }).toString('base64');
}

/**
 * The `.p12`: key and certificate, each bag with the friendly name Keychain shows. `3des` gives
 * pbeWithSHA1And3-KeyTripleDES and a SHA-1 MAC: what macOS `security import` has long accepted, and what
 * OpenSSL 3 reads without `-legacy` (docs stack.md, pitfall 10).
 */
export function buildP12(privateKeyPem: string, certDer: Buffer, password: string, friendlyName: string): Buffer {
  const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(certDer.toString('binary')));
  const asn1 = forge.pkcs12.toPkcs12Asn1(forgeKey(privateKeyPem), [cert], password, {
    algorithm: '3des',
    friendlyName,
    generateLocalKeyId: true,
  });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** A generated `.p12` password: 24 URL-safe characters (144 bits), no characters shells or Keychain mangle. */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}
