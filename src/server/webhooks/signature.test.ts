import { describe, expect, it } from 'vitest';
import { signBody, verifySignature } from './signature.js';

// Apple's test vector (app-store-connect.md (i), "Configuring webhook notifications").
const SECRET = Buffer.from('This is my secret');
const BODY = Buffer.from('Hello, World!');
const HEX = '7f062172b01cb00b53ca068614674a3d982a34062a0f5d37687d5e3377e54657';

describe('webhook signature', () => {
  it("signs Apple's test vector to Apple's value", () => {
    expect(signBody(SECRET, BODY)).toBe(HEX);
  });

  it("accepts Apple's header for the test vector, in either case of hex", () => {
    expect(verifySignature(`hmacsha256=${HEX}`, BODY, [SECRET])).toBe(true);
    expect(verifySignature(`hmacsha256=${HEX.toUpperCase()}`, BODY, [SECRET])).toBe(true);
  });

  it('refuses a missing header, another scheme, a short or non-hex value', () => {
    expect(verifySignature(undefined, BODY, [SECRET])).toBe(false);
    expect(verifySignature('', BODY, [SECRET])).toBe(false);
    expect(verifySignature(`sha256=${HEX}`, BODY, [SECRET])).toBe(false);
    expect(verifySignature(`hmacsha256=${HEX.slice(2)}`, BODY, [SECRET])).toBe(false);
    expect(verifySignature(`hmacsha256=${'z'.repeat(64)}`, BODY, [SECRET])).toBe(false);
  });

  it('refuses a changed body, a changed signature and the wrong secret', () => {
    expect(verifySignature(`hmacsha256=${HEX}`, Buffer.from('Hello, World?'), [SECRET])).toBe(false);
    const flipped = `${HEX.slice(0, -1)}${HEX.endsWith('7') ? '8' : '7'}`;
    expect(verifySignature(`hmacsha256=${flipped}`, BODY, [SECRET])).toBe(false);
    expect(verifySignature(`hmacsha256=${HEX}`, BODY, [Buffer.from('another secret')])).toBe(false);
    expect(verifySignature(`hmacsha256=${HEX}`, BODY, [])).toBe(false);
  });

  it('accepts a signature under any of the secrets given (current and previous during a rotation)', () => {
    expect(verifySignature(`hmacsha256=${HEX}`, BODY, [Buffer.from('new secret'), SECRET])).toBe(true);
  });
});
