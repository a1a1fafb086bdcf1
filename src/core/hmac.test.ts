import { describe, expect, it } from 'vitest';
import { APPLE_SIGNATURE_PREFIX, hmacSha256Hex, signHmacSha256, verifyHmacSha256 } from './hmac.js';

// Apple's test vector (docs/app-store-connect.md §i, "Configuring and parsing webhook notifications").
const SECRET = 'This is my secret';
const BODY = 'Hello, World!';
const HEX = '7f062172b01cb00b53ca068614674a3d982a34062a0f5d37687d5e3377e54657';

describe('HMAC-SHA256 signatures (x-apple-signature)', () => {
  it("matches Apple's test vector", () => {
    expect(hmacSha256Hex(SECRET, BODY)).toBe(HEX);
    expect(signHmacSha256(SECRET, Buffer.from(BODY))).toBe(`hmacsha256=${HEX}`);
    expect(verifyHmacSha256(SECRET, BODY, `hmacsha256=${HEX}`)).toBe(true);
    expect(verifyHmacSha256(Buffer.from(SECRET), Buffer.from(BODY), `hmacsha256=${HEX.toUpperCase()}`)).toBe(true);
  });

  it('refuses a forged, altered, truncated, unprefixed or missing signature', () => {
    expect(verifyHmacSha256('another secret', BODY, `hmacsha256=${HEX}`)).toBe(false);
    expect(verifyHmacSha256(SECRET, 'Hello, World?', `hmacsha256=${HEX}`)).toBe(false);
    expect(verifyHmacSha256(SECRET, BODY, `hmacsha256=${HEX.slice(0, 62)}`)).toBe(false);
    expect(verifyHmacSha256(SECRET, BODY, HEX)).toBe(false);
    expect(verifyHmacSha256(SECRET, BODY, `sha256=${HEX}`)).toBe(false);
    expect(verifyHmacSha256(SECRET, BODY, `hmacsha256=${'z'.repeat(64)}`)).toBe(false);
    expect(verifyHmacSha256(SECRET, BODY, undefined)).toBe(false);
    expect(verifyHmacSha256(SECRET, BODY, '')).toBe(false);
  });

  it('takes another prefix for other senders', () => {
    expect(signHmacSha256(SECRET, BODY, 'sha256=')).toBe(`sha256=${HEX}`);
    expect(verifyHmacSha256(SECRET, BODY, `sha256=${HEX}`, 'sha256=')).toBe(true);
    expect(APPLE_SIGNATURE_PREFIX).toBe('hmacsha256=');
  });
});
