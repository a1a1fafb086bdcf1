import { createHmac, timingSafeEqual } from 'node:crypto';

/** Apple's header and its one scheme (app-store-connect.md (i)): `x-apple-signature: hmacsha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-apple-signature';
const SCHEME = 'hmacsha256=';

/** Lower-case hex HMAC-SHA256 of the raw body, keyed with the webhook's secret, as Apple signs it. */
export function signBody(secret: Buffer | string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * True when the header carries a valid signature of `body` under one of `secrets`. The comparison is over
 * the decoded bytes in constant time; a header of the wrong shape or length fails without comparing. Every
 * secret is tried (no early exit), so the time does not tell which one matched.
 */
export function verifySignature(header: string | undefined, body: Buffer, secrets: readonly Buffer[]): boolean {
  if (typeof header !== 'string' || !header.toLowerCase().startsWith(SCHEME)) return false;
  const hex = header.slice(SCHEME.length).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const given = Buffer.from(hex, 'hex');
  let ok = false;
  for (const s of secrets) {
    const expected = createHmac('sha256', s).update(body).digest();
    if (timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
