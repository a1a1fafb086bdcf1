import { createPrivateKey, sign } from 'node:crypto';

/**
 * Signs arbitrary JWTs with node:crypto, independently of ascend's TokenProvider, so simulator tests can
 * build every malformed token Apple would refuse.
 */
export function signJwt(
  privateKeyPem: string,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  opts: { der?: boolean } = {},
): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  const sig = sign('sha256', Buffer.from(input), {
    key: createPrivateKey(privateKeyPem),
    dsaEncoding: opts.der ? 'der' : 'ieee-p1363',
  });
  return `${input}.${sig.toString('base64url')}`;
}

export function appleToken(
  key: { keyId: string; issuerId: string | undefined; privateKeyPem: string },
  nowS: number,
  over: Record<string, unknown> = {},
) {
  const payload: Record<string, unknown> = { iat: nowS, exp: nowS + 1200, aud: 'appstoreconnect-v1', ...over };
  if (key.issuerId !== undefined && !('iss' in over)) payload.iss = key.issuerId;
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return signJwt(key.privateKeyPem, { alg: 'ES256', kid: key.keyId, typ: 'JWT' }, payload);
}
