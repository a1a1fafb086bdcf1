import { createHmac } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AscendError } from '../../core/errors.js';
import { base32, cryptoRandomBytes, type RandomBytes } from '../store/ids.js';

/** The key that wraps every data key. It lives in the environment or a 0600 file, never in the database. */
export interface MasterKey {
  /** Derived from the key itself, so the same key has the same id wherever it is loaded. */
  readonly id: string;
  readonly key: Buffer;
}

export const MASTER_KEY_FILE = 'master.key';
/** Written by `ascend server rotate-master-key` before it re-wraps anything; renamed to master.key at the end. */
export const MASTER_KEY_NEXT_FILE = 'master.key.next';
/** The key a finished rotation replaced; still loaded, for secrets sealed by a server that has not reloaded. */
export const MASTER_KEY_PREVIOUS_FILE = 'master.key.previous';

export function masterKeyOf(key: Buffer): MasterKey {
  if (key.length !== 32) throw new AscendError('MASTER_KEY_INVALID', `the master key is ${key.length} bytes, not 32`);
  // An HMAC of a constant: names the key without revealing anything about it.
  const id = `mk_${base32(createHmac('sha256', key).update('ascend master key id v1').digest().subarray(0, 10))}`;
  return { id, key: Buffer.from(key) };
}

/** Parses base64 text (ASCEND_MASTER_KEY or the file); the value itself is never part of a message. */
export function parseMasterKey(text: string, origin: string): MasterKey {
  const compact = text.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(compact) && !/^[A-Za-z0-9_-]{43}$/.test(compact)) {
    throw new AscendError('MASTER_KEY_INVALID', `${origin} is not 32 bytes in base64 (${compact.length} characters)`);
  }
  return masterKeyOf(Buffer.from(compact, compact.endsWith('=') ? 'base64' : 'base64url'));
}

export interface LoadMasterKeyOptions {
  /** ASCEND_MASTER_KEY as config read it; wins over the file. */
  envValue?: string | undefined;
  dataDir: string;
  /** The server creates the key on first start; a worker never does (it must use the server's). */
  create: boolean;
  randomBytes?: RandomBytes;
}

/**
 * The master key from ASCEND_MASTER_KEY, else `<data>/master.key`; with `create`, a missing file is made with
 * 32 random bytes, mode 0600, by exclusive create so two processes starting at once end with one key.
 * A file that group or others can read is refused: the key protects every stored secret.
 */
export async function loadMasterKey(opts: LoadMasterKeyOptions): Promise<MasterKey> {
  if (opts.envValue) return parseMasterKey(opts.envValue, 'ASCEND_MASTER_KEY');
  const path = join(opts.dataDir, MASTER_KEY_FILE);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    if (!opts.create) {
      throw new AscendError('MASTER_KEY_INVALID', `no master key: ASCEND_MASTER_KEY is unset and ${path} is missing`, {
        remedy: "Set ASCEND_MASTER_KEY to the server's master key (workers never create one).",
      });
    }
    return createKeyFile(path, opts.randomBytes ?? cryptoRandomBytes);
  }
  return readKeyFile(path, info);
}

/** A 0600 key file (refused when group or others can read it), parsed; undefined when it does not exist. */
export async function readMasterKeyFile(path: string): Promise<MasterKey | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info ? readKeyFile(path, info) : undefined;
}

async function readKeyFile(path: string, info: { mode: number; size: number }): Promise<MasterKey> {
  if ((info.mode & 0o077) !== 0) {
    throw new AscendError(
      'MASTER_KEY_PERMISSIONS',
      `${path} is readable by others (mode ${(info.mode & 0o777).toString(8)})`,
      { remedy: `Make it readable by its owner only: \`chmod 600 ${path}\`.` },
    );
  }
  if (info.size > 1024) throw new AscendError('MASTER_KEY_INVALID', `${path} is ${info.size} bytes, far too large`);
  return parseMasterKey(await readFile(path, 'utf8'), path);
}

async function createKeyFile(path: string, randomBytes: RandomBytes): Promise<MasterKey> {
  const key = randomBytes(32);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    // Another process created it first: use that one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return parseMasterKey(await readFile(path, 'utf8'), path);
    throw err;
  }
  try {
    await handle.writeFile(`${key.toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return masterKeyOf(key);
}

/**
 * The keys a process opens secrets with. During a rotation the server runs with the new key as the current
 * one and the old key as `previous` (ASCEND_MASTER_KEY_PREVIOUS), so secrets open whichever key wraps them.
 */
export async function loadKeyring(
  opts: LoadMasterKeyOptions & { previousEnvValue?: string | undefined },
): Promise<{ current: MasterKey; previous: MasterKey[] }> {
  const current = await loadMasterKey(opts);
  const previous = opts.previousEnvValue ? [parseMasterKey(opts.previousEnvValue, 'ASCEND_MASTER_KEY_PREVIOUS')] : [];
  // A rotation in progress (master.key.next) or finished (master.key.previous) leaves secrets under either key.
  for (const name of [MASTER_KEY_NEXT_FILE, MASTER_KEY_PREVIOUS_FILE]) {
    const key = await readMasterKeyFile(join(opts.dataDir, name));
    if (key) previous.push(key);
  }
  const seen = new Set([current.id]);
  return { current, previous: previous.filter((k) => !seen.has(k.id) && seen.add(k.id)) };
}
