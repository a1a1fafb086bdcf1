import forge from 'node-forge';
import { conflict } from '../errors.js';

/** Apple refuses anything but a PKCS#10 request for an RSA 2048-bit key, signed by that key. */
const MAX_CSR_CHARS = 16 * 1024;

const invalid = (why: string) =>
  conflict(
    'ENTITY_ERROR.ATTRIBUTE.INVALID',
    `Invalid Certificate Signing Request: ${why}`,
    '/data/attributes/csrContent',
  );

/**
 * Reads `csrContent` as Apple accepts it: the PEM text (fastlane sends BEGIN/END lines) or the bare base64
 * body, and answers Apple's 409 for a request Apple would refuse.
 */
export function parseCsr(text: string): forge.pki.rsa.PublicKey {
  if (text.length > MAX_CSR_CHARS) throw invalid('the request is far larger than any CSR');
  const body = text.replace(/-----(BEGIN|END) (NEW )?CERTIFICATE REQUEST-----/g, '').replace(/\s+/g, '');
  if (!body || !/^[A-Za-z0-9+/]+=*$/.test(body)) throw invalid('it is not a PEM or base64 PKCS#10 request');
  let csr: ReturnType<typeof forge.pki.certificationRequestFromAsn1>;
  try {
    csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(forge.util.decode64(body)));
  } catch (err) {
    // forge reads RSA keys only; it names the OID of any other key type.
    if (/not RSA/i.test((err as Error).message)) throw invalid('the key is not an RSA key');
    throw invalid('it is not a PKCS#10 certification request');
  }
  const key = csr.publicKey as forge.pki.rsa.PublicKey | null;
  if (!key || typeof key.n?.bitLength !== 'function') throw invalid('the key is not an RSA key');
  if (key.n.bitLength() !== 2048) throw invalid(`the key is RSA ${key.n.bitLength()}, not RSA 2048`);
  let verified = false;
  try {
    verified = csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw invalid('its signature does not verify with its own key');
  return key;
}
