import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openEnvelope, rewrapEnvelope, sealEnvelope } from './envelope.js';
import { masterKeyOf } from './master-key.js';

const rnd = (n: number) => randomBytes(n);
const m1 = masterKeyOf(Buffer.alloc(32, 1));
const m2 = masterKeyOf(Buffer.alloc(32, 2));
const owner = 'team_a|sec_1|asc-private-key';
const secret = Buffer.from('-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMG\n-----END PRIVATE KEY-----\n');

function flip(sealed: string, at: number): string {
  const raw = Buffer.from(sealed.slice(3), 'base64');
  raw[at % raw.length]! ^= 0x01;
  return `v1.${raw.toString('base64')}`;
}

describe('envelope encryption', () => {
  it('round-trips, and each seal uses a fresh data key and IV', () => {
    const a = sealEnvelope(m1, owner, secret, rnd);
    const b = sealEnvelope(m1, owner, secret, rnd);
    expect(openEnvelope({ current: m1 }, owner, a)).toEqual(secret);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.wrappedKey).not.toBe(b.wrappedKey);
    expect(a.masterKeyId).toBe(m1.id);
    expect(a.ciphertext).not.toContain('PRIVATE');
  });

  it('detects tampering with the sealed secret or the wrapped key, bit by bit', () => {
    const env = sealEnvelope(m1, owner, secret, rnd);
    for (const at of [0, 12, 20, 40, 70]) {
      expect(() => openEnvelope({ current: m1 }, owner, { ...env, ciphertext: flip(env.ciphertext, at) })).toThrow(
        expect.objectContaining({ code: 'VAULT_SECRET_DAMAGED' }),
      );
      expect(() => openEnvelope({ current: m1 }, owner, { ...env, wrappedKey: flip(env.wrappedKey, at) })).toThrow(
        expect.objectContaining({ code: 'VAULT_SECRET_DAMAGED' }),
      );
    }
    expect(() => openEnvelope({ current: m1 }, owner, { ...env, ciphertext: 'v1.AAAA' })).toThrow(
      expect.objectContaining({ code: 'VAULT_SECRET_DAMAGED' }),
    );
  });

  it('refuses another owner (AAD): other team, other secret id, other kind', () => {
    const env = sealEnvelope(m1, owner, secret, rnd);
    for (const other of [
      'team_b|sec_1|asc-private-key',
      'team_a|sec_2|asc-private-key',
      'team_a|sec_1|webhook-secret',
    ]) {
      expect(() => openEnvelope({ current: m1 }, other, env)).toThrow(
        expect.objectContaining({ code: 'VAULT_SECRET_DAMAGED' }),
      );
    }
  });

  it('a wrong master key is named as unknown; a forged key id with the wrong key fails integrity', () => {
    const env = sealEnvelope(m1, owner, secret, rnd);
    expect(() => openEnvelope({ current: m2 }, owner, env)).toThrow(
      expect.objectContaining({ code: 'VAULT_KEY_UNKNOWN' }),
    );
    expect(() => openEnvelope({ current: m2 }, owner, { ...env, masterKeyId: m2.id })).toThrow(
      expect.objectContaining({ code: 'VAULT_SECRET_DAMAGED' }),
    );
  });

  it('re-wrapping keeps the sealed secret byte for byte and opens under the new key only', () => {
    const env = sealEnvelope(m1, owner, secret, rnd);
    const moved = rewrapEnvelope(m1, m2, owner, env, rnd);
    expect(moved.ciphertext).toBe(env.ciphertext);
    expect(moved.masterKeyId).toBe(m2.id);
    expect(openEnvelope({ current: m2 }, owner, moved)).toEqual(secret);
    expect(openEnvelope({ current: m2, previous: [m1] }, owner, env)).toEqual(secret);
    expect(() => openEnvelope({ current: m1 }, owner, moved)).toThrow(
      expect.objectContaining({ code: 'VAULT_KEY_UNKNOWN' }),
    );
  });
});
