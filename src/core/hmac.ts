import { createHmac, timingSafeEqual } from 'node:crypto';

/** The prefix of App Store Connect's `x-apple-signature` header value: `hmacsha256=<lower-case hex>`. */
export const APPLE_SIGNATURE_PREFIX = 'hmacsha256=';

/** Lower-case hex HMAC-SHA256 of the raw bytes, keyed with `secret`. */
export function hmacSha256Hex(secret: string | Buffer, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** The header value a sender puts on a body: `prefix` + hex HMAC (Apple: `hmacsha256=…`). */
export function signHmacSha256(secret: string | Buffer, rawBody: string | Buffer, prefix = APPLE_SIGNATURE_PREFIX) {
  return `${prefix}${hmacSha256Hex(secret, rawBody)}`;
}

/**
 * Whether `headerValue` is `prefix` + the hex HMAC-SHA256 of the raw body under `secret`. Compared in
 * constant time over the decoded digest; a missing, malformed or wrong-length value is simply false.
 * Verify over the bytes as received: re-serialized JSON would not match.
 */
export function verifyHmacSha256(
  secret: string | Buffer,
  rawBody: string | Buffer,
  headerValue: string | undefined | null,
  prefix = APPLE_SIGNATURE_PREFIX,
): boolean {
  if (typeof headerValue !== 'string' || !headerValue.startsWith(prefix)) return false;
  const hex = headerValue.slice(prefix.length);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}
