import { hmacSha256Hex, verifyHmacSha256 } from '../../core/hmac.js';

/** Apple's header (app-store-connect.md (i)): `x-apple-signature: hmacsha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-apple-signature';

/** Lower-case hex HMAC-SHA256 of the raw body, keyed with the webhook's secret, as Apple signs it. */
export function signBody(secret: Buffer | string, body: Buffer): string {
  return hmacSha256Hex(secret, body);
}

/**
 * True when the header carries a valid signature of `body` under one of `secrets` (the current one and,
 * during a rotation's grace, the previous one). Each check is constant-time (src/core/hmac.ts), and every
 * secret is tried with no early exit, so the time does not tell which one matched.
 */
export function verifySignature(header: string | undefined, body: Buffer, secrets: readonly Buffer[]): boolean {
  let ok = false;
  for (const s of secrets) if (verifyHmacSha256(s, body, header)) ok = true;
  return ok;
}
