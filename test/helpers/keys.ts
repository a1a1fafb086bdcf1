import { generateKeyPairSync } from 'node:crypto';

/** A fresh P-256 key in the forms tests need; never a real key. */
export function p256(): { pkcs8: string; sec1: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    pkcs8: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    sec1: privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

export const KEY_ID = 'ABCDE12345';
export const ISSUER_ID = '69a6de70-03db-47e3-e053-5b8c7c11a4d1';
