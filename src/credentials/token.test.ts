import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { ISSUER_ID, KEY_ID, p256 } from '../../test/helpers/keys.js';
import { hasThirdParty, thirdParty } from '../../test/helpers/third-party.js';
import { FakeClock } from '../core/clock.js';
import { validatePrivateKey } from './key.js';
import { createTokenProvider } from './token.js';
import type { ApiKey } from './types.js';

const k = p256();
const apiKey = (over: Partial<ApiKey> = {}): ApiKey => ({
  keyId: KEY_ID,
  issuerId: ISSUER_ID,
  privateKeyPem: validatePrivateKey(k.pkcs8).pem,
  inHouse: false,
  sources: { keyId: 't', issuerId: 't', privateKey: 't' },
  ...over,
});

/** Verifies a compact ES256 JWS with node:crypto directly: an implementation independent of the signer. */
function verifyWithNodeCrypto(jwt: string, publicPem: string): boolean {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  expect(sig.length).toBe(64); // raw r‖s, not DER
  return verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: createPublicKey(publicPem), dsaEncoding: 'ieee-p1363' },
    sig,
  );
}

describe('TokenProvider', () => {
  it("signs ES256 tokens with Apple's header and claims, verifiable by jose and by node:crypto", async () => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1, 12, 0, 0));
    const jwt = await createTokenProvider(apiKey(), { clock }).token();
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: KEY_ID, typ: 'JWT' });
    const { payload } = await jwtVerify(jwt, createPublicKey(k.publicPem), {
      audience: 'appstoreconnect-v1',
      issuer: ISSUER_ID,
      currentDate: new Date(clock.now()),
    });
    const nowS = clock.now() / 1000;
    expect(payload.iat).toBe(nowS - 60); // back-dated against clock skew
    expect(payload.exp! - payload.iat!).toBe(1200);
    expect(payload.exp! - nowS).toBeLessThanOrEqual(1200);
    expect(payload.sub).toBeUndefined();
    expect(verifyWithNodeCrypto(jwt, k.publicPem)).toBe(true);
  });

  it('individual keys carry sub "user" and no iss; in-house keys sign for the enterprise audience', async () => {
    const ind = await createTokenProvider(apiKey({ issuerId: undefined })).token();
    const { payload } = await jwtVerify(ind, createPublicKey(k.publicPem));
    expect(payload.sub).toBe('user');
    expect('iss' in payload).toBe(false);
    const ent = await createTokenProvider(apiKey({ inHouse: true })).token();
    expect((await jwtVerify(ent, createPublicKey(k.publicPem))).payload.aud).toBe('apple-developer-enterprise-v1');
  });

  it('reuses one token until shortly before expiry, then mints a new one', async () => {
    const clock = new FakeClock();
    const tp = createTokenProvider(apiKey(), { clock });
    const first = await tp.token();
    clock.advance(15 * 60_000);
    expect(await tp.token()).toBe(first);
    expect(tp.minted).toBe(1);
    clock.advance(3 * 60_000); // 18 min after minting: within the 2-minute refresh margin of exp (now − 60 + 1200)
    const second = await tp.token();
    expect(second).not.toBe(first);
    expect(tp.minted).toBe(2);
  });

  it('mints again after invalidate (a 401), and only once for concurrent callers', async () => {
    const tp = createTokenProvider(apiKey());
    const [a, b, c] = await Promise.all([tp.token(), tp.token(), tp.token()]);
    expect(new Set([a, b, c]).size).toBe(1);
    expect(tp.minted).toBe(1);
    tp.invalidate('some other token');
    expect(await tp.token()).toBe(a);
    tp.invalidate(a!);
    expect(await tp.token()).not.toBe(a);
    expect(tp.minted).toBe(2);
  });

  it.skipIf(!hasThirdParty)("verifies the published third-party token's layout and signature", async () => {
    const jwt = readFileSync(thirdParty('keys', 'app_store_connect_jwt_token.jwt'), 'utf8').trim();
    const pem = readFileSync(thirdParty('keys', 'app_store_connect_jwt_private_key.p8'), 'utf8');
    const publicPem = createPublicKey(validatePrivateKey(pem).key).export({ format: 'pem', type: 'spki' }).toString();
    expect(decodeProtectedHeader(jwt)).toEqual({ kid: 'M3225B466N', alg: 'ES256' });
    expect(verifyWithNodeCrypto(jwt, publicPem)).toBe(true);
    const { payload } = await jwtVerify(jwt, createPublicKey(publicPem), {
      currentDate: new Date('2019-01-01T00:00:00Z'),
    });
    expect(payload).toEqual({
      exp: 1546302000,
      iss: '69a6de70-03db-47e3-e053-5b8c7c11a4d1',
      aud: 'appstoreconnect-v1',
    });
    // Tampering with one byte of the payload breaks it.
    const [h, p, s] = jwt.split('.');
    const tampered = `${h}.${p!.slice(0, -2)}A${p!.slice(-1)}.${s}`;
    expect(verifyWithNodeCrypto(tampered, publicPem)).toBe(false);
  });
});
