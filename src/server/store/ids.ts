import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../../core/clock.js';

/** Randomness is injected (DESIGN §2); tests pass a seeded source to get stable ids. */
export type RandomBytes = (n: number) => Buffer;
export const cryptoRandomBytes: RandomBytes = (n) => randomBytes(n);

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding: safe in URLs, file names and both databases' text columns. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export type IdPrefix =
  | 'team'
  | 'usr'
  | 'ses'
  | 'tok'
  | 'lnk'
  | 'sec'
  | 'key'
  | 'app'
  | 'bna'
  | 'art'
  | 'dep'
  | 'job'
  | 'aud'
  | 'alr'
  | 'whk'
  | 'whe'
  | 'ntg'
  | 'nev'
  | 'ndl'
  | 'nat'
  | 'wtk';

/** A text id such as `dep_` + 26 base32 characters (128 random bits): unguessable, so ids leak nothing. */
export function newId(prefix: IdPrefix, random: RandomBytes = cryptoRandomBytes): string {
  return `${prefix}_${base32(random(16))}`;
}

/** Every stored time is an ISO-8601 UTC string: sorts as text and reads the same from SQLite and PostgreSQL. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Time and randomness every repository takes, injected (DESIGN §2). */
export interface StoreDeps {
  clock: Clock;
  randomBytes: RandomBytes;
}

export const systemDeps: StoreDeps = { clock: systemClock, randomBytes: cryptoRandomBytes };
