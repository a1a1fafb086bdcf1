import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { p256 } from '../../test/helpers/keys.js';
import { hasThirdParty, thirdParty } from '../../test/helpers/third-party.js';
import { validateIssuerId, validateKeyId, validatePrivateKey } from './key.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('validatePrivateKey', () => {
  const k = p256();

  it('accepts a PKCS#8 P-256 .p8 and returns PKCS#8 PEM', () => {
    const { pem, key } = validatePrivateKey(k.pkcs8);
    expect(pem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('accepts SEC1 "EC PRIVATE KEY" and converts it to PKCS#8', () => {
    const { pem } = validatePrivateKey(k.sec1);
    expect(pem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(pem).toBe(validatePrivateKey(k.pkcs8).pem);
  });

  it('accepts literal \\n (a CI-secret accident), CRLF, quotes, and base64 of the PEM', () => {
    const want = validatePrivateKey(k.pkcs8).pem;
    expect(validatePrivateKey(k.pkcs8.replace(/\n/g, '\\n')).pem).toBe(want);
    expect(validatePrivateKey(k.pkcs8.replace(/\n/g, '\r\n')).pem).toBe(want);
    expect(validatePrivateKey(`"${k.pkcs8.trim()}"`).pem).toBe(want);
    expect(validatePrivateKey(Buffer.from(k.pkcs8).toString('base64')).pem).toBe(want);
  });

  it('gives each way a key can be wrong its own code', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const ed = generateKeyPairSync('ed25519');
    const cases: [string, string][] = [
      ['', 'KEY_EMPTY'],
      ['   \n ', 'KEY_EMPTY'],
      ['hello world, not a key', 'KEY_NOT_PEM'],
      [rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'KEY_WRONG_TYPE'],
      [rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(), 'KEY_WRONG_TYPE'],
      [ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'KEY_WRONG_TYPE'],
      [p384.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'KEY_WRONG_CURVE'],
      [
        generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
          .privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' })
          .toString(),
        'KEY_ENCRYPTED',
      ],
      [k.pkcs8.slice(0, 120), 'KEY_TRUNCATED'],
      [k.pkcs8.replace(/\n[A-Za-z0-9+/]{20}/, '\n'), 'KEY_TRUNCATED'],
      [k.publicPem, 'KEY_IS_PUBLIC'],
      ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'KEY_IS_CERTIFICATE'],
    ];
    for (const [input, code] of cases)
      expect(
        codeOf(() => validatePrivateKey(input)),
        code,
      ).toBe(code);
  });

  it('names the origin of the key in the message', () => {
    expect(() => validatePrivateKey('nope', 'the private key from ASC_PRIVATE_KEY')).toThrow(/ASC_PRIVATE_KEY/);
  });

  it.skipIf(!hasThirdParty)('reads the published third-party test keys', () => {
    for (const f of [
      'app_store_connect_jwt_private_key.p8',
      'apple-app-store-server-library-node_testSigningKey.p8',
      'fastlane_asc_key.p8',
    ]) {
      expect(validatePrivateKey(readFileSync(thirdParty('keys', f), 'utf8')).pem, f).toContain('BEGIN PRIVATE KEY');
    }
  });
});

describe('Key ID and Issuer ID', () => {
  it('requires 10 upper-case alphanumerics for the Key ID', () => {
    expect(validateKeyId(' 2X9R4HXF34 ')).toBe('2X9R4HXF34');
    expect(codeOf(() => validateKeyId('D485S484'))).toBe('KEY_ID_INVALID');
    expect(codeOf(() => validateKeyId('2x9r4hxf34'))).toBe('KEY_ID_INVALID');
    expect(() => validateKeyId('D485S484')).toThrow(/8 characters/);
  });

  it('checks the Issuer ID shape but not UUID version bits (Apple’s are not RFC 4122 v4)', () => {
    expect(validateIssuerId('57246542-96fe-1a63-e053-0824d011072a')).toBe('57246542-96fe-1a63-e053-0824d011072a');
    expect(codeOf(() => validateIssuerId('57246542-96fe-1a63-e053'))).toBe('ISSUER_ID_INVALID');
    expect(codeOf(() => validateIssuerId('not-a-uuid'))).toBe('ISSUER_ID_INVALID');
  });
});
