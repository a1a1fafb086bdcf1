import { createHmac } from 'node:crypto';

/** The signature of a pre-signed part URL: HMAC-SHA-256 over the file, part and expiry. */
export function sign(secret: Buffer, fileId: string, part: number, exp: number): string {
  return createHmac('sha256', secret).update(`${fileId}:${part}:${exp}`).digest('base64url');
}
