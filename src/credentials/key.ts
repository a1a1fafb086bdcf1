import { createPrivateKey, type KeyObject } from 'node:crypto';
import { AscendError } from '../core/errors.js';
import type { ApiKey } from './types.js';

/**
 * Validates a private key as App Store Connect issues it (PKCS#8 PEM, EC P-256) and returns it as
 * PKCS#8 PEM. Accepts the common ways a key gets mangled on its way to CI: literal "\n" instead of
 * newlines, CRLF, surrounding quotes or spaces, SEC1 "EC PRIVATE KEY" (fastlane's fixtures use it), and
 * the whole PEM base64-encoded once more. Every way a key can be wrong gets its own error code.
 */
export function validatePrivateKey(
  input: string | Uint8Array,
  origin = 'the private key',
): { pem: string; key: KeyObject } {
  let text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  text = normalise(text);
  if (!text) throw new AscendError('KEY_EMPTY', `${origin} is empty`);

  if (!text.includes('-----BEGIN')) {
    const decoded = tryBase64(text);
    if (decoded?.includes('-----BEGIN')) text = normalise(decoded);
    else if (decoded !== undefined && looksLikeDer(text)) return fromDer(text, origin);
    else throw new AscendError('KEY_NOT_PEM', `${origin} is not a PEM private key`);
  }

  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? '';
  if (label === 'CERTIFICATE' || label === 'TRUSTED CERTIFICATE')
    throw new AscendError('KEY_IS_CERTIFICATE', `${origin} is a certificate, not a private key`);
  if (label === 'PUBLIC KEY' || label === 'EC PUBLIC KEY' || label === 'RSA PUBLIC KEY')
    throw new AscendError('KEY_IS_PUBLIC', `${origin} is a public key, not a private key`);
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(text))
    throw new AscendError('KEY_ENCRYPTED', `${origin} is encrypted with a passphrase`);
  if (label === 'RSA PRIVATE KEY' || label === 'OPENSSH PRIVATE KEY' || label === 'DSA PRIVATE KEY')
    throw new AscendError('KEY_WRONG_TYPE', `${origin} is a ${label.split(' ')[0]} key, not an EC P-256 key`);
  if (label !== 'PRIVATE KEY' && label !== 'EC PRIVATE KEY')
    throw new AscendError('KEY_NOT_PEM', `${origin} is a PEM "${label}" block, not a private key`);
  if (!text.includes(`-----END ${label}-----`))
    throw new AscendError('KEY_TRUNCATED', `${origin} has no "-----END ${label}-----" line: it is cut short`);

  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (cause) {
    throw new AscendError('KEY_TRUNCATED', `${origin} is damaged: its content does not decode as a key`, { cause });
  }
  return checkCurve(key, origin);
}

function checkCurve(key: KeyObject, origin: string): { pem: string; key: KeyObject } {
  if (key.asymmetricKeyType !== 'ec') {
    throw new AscendError(
      'KEY_WRONG_TYPE',
      `${origin} is an ${key.asymmetricKeyType?.toUpperCase()} key, not an EC P-256 key`,
    );
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== 'prime256v1') {
    throw new AscendError('KEY_WRONG_CURVE', `${origin} uses the ${curve ?? 'unknown'} curve, not P-256`);
  }
  const pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { pem, key };
}

function normalise(raw: string): string {
  let text = raw.trim();
  if ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'"))) {
    text = text.slice(1, -1).trim();
  }
  // A PEM pasted into a CI secret often arrives with literal backslash-n sequences.
  if (text.includes('\\n')) text = text.replace(/\\r\\n|\\n/g, '\n');
  text = text.replace(/\r\n?/g, '\n');
  return text
    .split('\n')
    .map((l) => l.trim())
    .join('\n');
}

function tryBase64(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  return Buffer.from(compact, 'base64').toString('latin1');
}

function looksLikeDer(text: string): boolean {
  const bytes = Buffer.from(text.replace(/\s+/g, ''), 'base64');
  return bytes[0] === 0x30 && bytes.length > 60;
}

function fromDer(text: string, origin: string): { pem: string; key: KeyObject } {
  const der = Buffer.from(text.replace(/\s+/g, ''), 'base64');
  try {
    return checkCurve(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), origin);
  } catch (err) {
    if (err instanceof AscendError) throw err;
    throw new AscendError('KEY_NOT_PEM', `${origin} is not a PEM private key`, { cause: err });
  }
}

const KEY_ID = /^[A-Z0-9]{10}$/;
// Apple's Issuer IDs are UUID-shaped but do not follow RFC 4122 version bits (e.g. "…-1a63-e053-…").
const ISSUER_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * How a rejected value is shown: quoted only when it is no longer than the valid form, else by length and
 * shape. A private key pasted into the wrong field (`--key-id "$(base64 AuthKey.p8)"`) must not be echoed
 * into the error line, the --json document or the --verbose trace.
 */
export function describeRejected(value: string, validLength: number): string {
  if (value.length <= validLength && !/[\r\n]/.test(value)) return `"${value}"`;
  return `(${value.length} characters of ${shapeOf(value)}, not shown)`;
}

function shapeOf(v: string): string {
  if (v.includes('-----BEGIN')) return 'PEM text';
  if (/^[A-Za-z0-9+/=\s]+$/.test(v)) return 'base64-like text';
  if (/^[A-Za-z0-9_.-]+$/.test(v)) return 'letters, digits and punctuation';
  return 'text';
}

export function validateKeyId(keyId: string, origin = 'the Key ID'): string {
  const v = keyId.trim();
  if (!KEY_ID.test(v)) {
    const shown = describeRejected(v, 10);
    const why = v.length !== 10 ? `${v.length} characters long` : 'not only upper-case letters and digits';
    const problem = shown.startsWith('"') ? `${shown} is ${why}` : `${shown} is not a Key ID`;
    throw new AscendError('KEY_ID_INVALID', `${origin} ${problem}; Key IDs are 10 upper-case letters and digits`);
  }
  return v;
}

/**
 * Apple's Issuer IDs are lower-case UUIDs, and the JWT's `iss` is compared as given: an upper-case copy is
 * refused by Apple with a bare 401. So the ID is accepted in any case and returned in lower case.
 */
export function validateIssuerId(issuerId: string, origin = 'the Issuer ID'): string {
  const v = issuerId.trim();
  if (!ISSUER_ID.test(v)) {
    throw new AscendError(
      'ISSUER_ID_INVALID',
      `${origin} ${describeRejected(v, 36)} is not shaped like 8-4-4-4-12 hexadecimal digits`,
    );
  }
  return v.toLowerCase();
}

/** A validated ApiKey from its three parts, for keys that do not come through resolveCredentials (demo, tests). */
export function apiKeyOf(
  k: { keyId: string; issuerId: string | undefined; privateKeyPem: string },
  source: string,
): ApiKey {
  return {
    keyId: validateKeyId(k.keyId),
    issuerId: k.issuerId === undefined ? undefined : validateIssuerId(k.issuerId),
    privateKeyPem: validatePrivateKey(k.privateKeyPem).pem,
    inHouse: false,
    sources: { keyId: source, issuerId: source, privateKey: source },
  };
}
