import { describe, expect, it } from 'vitest';
import { checkPasswordStrength, hashPassword, needsRehash, verifyPassword } from './passwords.js';

// Cheap parameters keep the suite fast; the format and checks are the same as production's.
const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe('passwords (scrypt)', () => {
  it('verifies the right password and refuses a wrong one; parameters travel with the hash', async () => {
    const h = await hashPassword('correct horse battery', FAST);
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(h).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(await hashPassword('correct horse battery', FAST)).not.toBe(h);
  });

  it('a damaged or hostile stored hash never matches and never asks for huge memory', async () => {
    const h = await hashPassword('correct horse battery', FAST);
    const parts = h.split('$');
    expect(await verifyPassword('correct horse battery', parts.slice(0, 5).join('$'))).toBe(false);
    expect(await verifyPassword('correct horse battery', ['scrypt', 2 ** 30, 8, 1, parts[4], parts[5]].join('$'))).toBe(
      false,
    );
    expect(await verifyPassword('correct horse battery', ['scrypt', 1000, 8, 1, parts[4], parts[5]].join('$'))).toBe(
      false,
    );
    expect(await verifyPassword('correct horse battery', `bcrypt$${parts.slice(1).join('$')}`)).toBe(false);
  });

  it('asks for a rehash when the stored cost is below today’s', async () => {
    const h = await hashPassword('correct horse battery', FAST);
    expect(needsRehash(h, FAST)).toBe(false);
    expect(needsRehash(h, { ...FAST, N: 2 ** 11 })).toBe(true);
  });

  it('refuses short and absurdly long passwords with PASSWORD_WEAK', () => {
    expect(() => checkPasswordStrength('short')).toThrow(expect.objectContaining({ code: 'PASSWORD_WEAK' }));
    expect(() => checkPasswordStrength('x'.repeat(2000))).toThrow(expect.objectContaining({ code: 'PASSWORD_WEAK' }));
  });
});
