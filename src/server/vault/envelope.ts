import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AscendError } from '../../core/errors.js';
import type { RandomBytes } from '../store/ids.js';
import type { MasterKey } from './master-key.js';

/**
 * Envelope encryption: each secret is sealed with AES-256-GCM under its own random data key, and the data key
 * is sealed (wrapped) with AES-256-GCM under the master key. Rotating the master key re-wraps data keys only.
 * Both seals carry associated data naming the owner (team id + secret id), so an envelope copied into
 * another row, or another team, fails its authentication check instead of decrypting.
 */
export interface Envelope {
  masterKeyId: string;
  /** `v1.` + base64(iv ‖ tag ‖ encrypted data key). */
  wrappedKey: string;
  /** `v1.` + base64(iv ‖ tag ‖ encrypted secret). */
  ciphertext: string;
}

/** The master keys a process can open envelopes with: the current one, and during rotation the old ones. */
export interface Keyring {
  current: MasterKey;
  previous?: readonly MasterKey[];
}

const VERSION = 'v1.';
const IV = 12;
const TAG = 16;

function seal(key: Buffer, plaintext: Buffer, aad: string, randomBytes: RandomBytes): string {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return VERSION + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function unseal(key: Buffer, sealed: string, aad: string, what: string): Buffer {
  const damaged = (cause?: unknown) =>
    new AscendError('VAULT_SECRET_DAMAGED', `${what} failed its integrity check`, cause ? { cause } : {});
  if (!sealed.startsWith(VERSION)) throw damaged();
  const raw = Buffer.from(sealed.slice(VERSION.length), 'base64');
  if (raw.length < IV + TAG) throw damaged();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV, IV + TAG));
    return Buffer.concat([decipher.update(raw.subarray(IV + TAG)), decipher.final()]);
  } catch (cause) {
    throw damaged(cause);
  }
}

const payloadAad = (owner: string) => `ascend/secret/v1|${owner}`;
const dataKeyAad = (masterKeyId: string, owner: string) => `ascend/data-key/v1|${masterKeyId}|${owner}`;

/** `owner` binds the envelope to its row: the vault passes `<team id>|<secret id>|<kind>`. */
export function sealEnvelope(master: MasterKey, owner: string, plaintext: Buffer, randomBytes: RandomBytes): Envelope {
  const dataKey = randomBytes(32);
  try {
    return {
      masterKeyId: master.id,
      wrappedKey: seal(master.key, dataKey, dataKeyAad(master.id, owner), randomBytes),
      ciphertext: seal(dataKey, plaintext, payloadAad(owner), randomBytes),
    };
  } finally {
    dataKey.fill(0);
  }
}

export function keyFor(ring: Keyring, masterKeyId: string): MasterKey {
  const key = [ring.current, ...(ring.previous ?? [])].find((k) => k.id === masterKeyId);
  if (!key) {
    throw new AscendError('VAULT_KEY_UNKNOWN', `a secret was sealed by master key ${masterKeyId}, which is not loaded`);
  }
  return key;
}

function unwrap(master: MasterKey, owner: string, env: Envelope): Buffer {
  return unseal(master.key, env.wrappedKey, dataKeyAad(master.id, owner), 'the secret’s data key');
}

export function openEnvelope(ring: Keyring, owner: string, env: Envelope): Buffer {
  const dataKey = unwrap(keyFor(ring, env.masterKeyId), owner, env);
  try {
    return unseal(dataKey, env.ciphertext, payloadAad(owner), 'the secret');
  } finally {
    dataKey.fill(0);
  }
}

/** Wraps the same data key under another master key; the sealed secret is left as it is. */
export function rewrapEnvelope(
  from: MasterKey,
  to: MasterKey,
  owner: string,
  env: Envelope,
  randomBytes: RandomBytes,
): Envelope {
  if (env.masterKeyId !== from.id) keyFor({ current: from }, env.masterKeyId);
  const dataKey = unwrap(from, owner, env);
  try {
    return {
      masterKeyId: to.id,
      wrappedKey: seal(to.key, dataKey, dataKeyAad(to.id, owner), randomBytes),
      ciphertext: env.ciphertext,
    };
  } finally {
    dataKey.fill(0);
  }
}
