import { randomBytes as cryptoRandomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { AscendError } from '../../core/errors.js';

/** scrypt cost: N=2^15, r=8, p=1 (32 MiB, ~100 ms) as OWASP's password storage cheat sheet suggests. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LEN = 32;
/** Bounds for parameters read back from the database, so a damaged row cannot ask for gigabytes. */
const MAX_N = 2 ** 20;
const MAX_PASSWORD = 1024;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LEN, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function checkPasswordStrength(password: string): void {
  if (password.length < 12) throw new AscendError('PASSWORD_WEAK', 'the password is shorter than 12 characters');
  if (password.length > MAX_PASSWORD)
    throw new AscendError('PASSWORD_WEAK', `the password is longer than ${MAX_PASSWORD} characters`);
}

/** `scrypt$N$r$p$salt$hash` (base64): the parameters travel with the hash, so they can be raised later. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
  randomBytes: (n: number) => Buffer = cryptoRandomBytes,
): Promise<string> {
  checkPasswordStrength(password);
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const ok = [N, r, p].every((v) => Number.isSafeInteger(v) && v > 0) && N <= MAX_N && r <= 32 && p <= 16;
  if (!ok || (N & (N - 1)) !== 0) return undefined;
  return { params: { N, r, p }, salt: Buffer.from(parts[4]!, 'base64'), key: Buffer.from(parts[5]!, 'base64') };
}

/** Constant-time comparison; a damaged or foreign hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD) return false;
  const parsed = parse(stored);
  if (!parsed || parsed.key.length !== KEY_LEN) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/** True when the stored hash used weaker parameters than today's: rehash after the next good sign-in. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.params.N < params.N || parsed.params.r < params.r || parsed.params.p < params.p;
}
