import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { describeRejected, validateIssuerId, validateKeyId, validatePrivateKey } from './key.js';
import { readKeyFileBounded } from './read.js';
import type { ApiKey } from './types.js';

export interface StoredKeyInfo {
  name: string;
  keyId: string;
  issuerId: string | null;
  individual: boolean;
  inHouse: boolean;
  isDefault: boolean;
  createdAt: string;
}

interface StoredKeyFile {
  name: string;
  keyId: string;
  issuerId: string | null;
  inHouse: boolean;
  privateKey: string;
  createdAt: string;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function validateKeyName(name: string): string {
  if (!NAME.test(name))
    throw new AscendError('KEY_NAME_INVALID', `${describeRejected(name, 64)} is not a valid key name`);
  return name;
}

/**
 * Keys stored on this machine under `$ASCEND_HOME/keys/<name>.json`, readable by the owner only.
 * A key file that others can read is refused rather than used, because the .p8 cannot be re-downloaded
 * if it leaks, only revoked.
 */
export class KeyStore {
  constructor(
    readonly home: string,
    private readonly clock: Clock = systemClock,
  ) {}

  private get dir(): string {
    return join(this.home, 'keys');
  }

  private file(name: string): string {
    return join(this.dir, `${validateKeyName(name)}.json`);
  }

  async add(name: string, key: ApiKey, options: { makeDefault?: boolean } = {}): Promise<void> {
    const path = this.file(name);
    if (await exists(path)) throw new AscendError('KEY_EXISTS', `a key named "${name}" is already stored`);
    await privateFolder(this.home, 'ASCEND_HOME');
    await privateFolder(this.dir, 'the key folder');
    const record: StoredKeyFile = {
      name,
      keyId: key.keyId,
      issuerId: key.issuerId ?? null,
      inHouse: key.inHouse,
      privateKey: key.privateKeyPem,
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    await atomicWrite(path, `${JSON.stringify(record, null, 2)}\n`);
    const current = await this.defaultName();
    if (options.makeDefault || current === undefined) await this.setDefault(name);
  }

  /** The stored keys that can be read; see `listAll` for the ones that cannot. */
  async list(): Promise<StoredKeyInfo[]> {
    return (await this.listAll()).keys;
  }

  /**
   * Every stored key, and apart from them each file under keys/ that is not a usable key (damaged JSON,
   * readable by others, a bad name): one bad file must not hide the good keys.
   */
  async listAll(): Promise<{ keys: StoredKeyInfo[]; unreadable: UnreadableKeyFile[] }> {
    let files: string[];
    try {
      files = (await readdir(this.dir)).filter((f) => f.endsWith('.json'));
    } catch {
      return { keys: [], unreadable: [] };
    }
    const def = await this.defaultName();
    const keys: StoredKeyInfo[] = [];
    const unreadable: UnreadableKeyFile[] = [];
    for (const f of files.sort()) {
      const name = f.slice(0, -5);
      try {
        const rec = await this.readRecord(name);
        keys.push({
          name,
          keyId: rec.keyId,
          issuerId: rec.issuerId,
          individual: rec.issuerId === null,
          inHouse: rec.inHouse,
          isDefault: name === def,
          createdAt: rec.createdAt,
        });
      } catch (err) {
        if (!(err instanceof AscendError)) throw err;
        unreadable.push({ file: join(this.dir, f), code: err.code, problem: err.message });
      }
    }
    return { keys, unreadable };
  }

  async get(name: string): Promise<ApiKey> {
    const rec = await this.readRecord(name);
    const origin = `the stored key "${name}"`;
    const { pem } = validatePrivateKey(rec.privateKey, origin);
    const source = `stored key "${name}"`;
    return {
      keyId: validateKeyId(rec.keyId, `${origin}'s Key ID`),
      issuerId: rec.issuerId === null ? undefined : validateIssuerId(rec.issuerId, `${origin}'s Issuer ID`),
      privateKeyPem: pem,
      inHouse: rec.inHouse,
      sources: { keyId: source, issuerId: source, privateKey: source },
      name,
    };
  }

  async remove(name: string): Promise<void> {
    const path = this.file(name);
    if (!(await exists(path))) throw new AscendError('KEY_NOT_STORED', `no key named "${name}" is stored`);
    await rm(path);
    if ((await this.defaultName()) === name) {
      const rest = (await this.list()).map((k) => k.name);
      await this.setDefault(rest[0]);
    }
  }

  async defaultName(): Promise<string | undefined> {
    try {
      const { text } = await readKeyFileBounded(join(this.home, 'config.json'), 'the key store settings');
      const cfg = JSON.parse(text) as { defaultKey?: unknown };
      return typeof cfg.defaultKey === 'string' ? cfg.defaultKey : undefined;
    } catch {
      return undefined;
    }
  }

  async setDefault(name: string | undefined): Promise<void> {
    await mkdir(this.home, { recursive: true, mode: 0o700 });
    await atomicWrite(join(this.home, 'config.json'), `${JSON.stringify({ defaultKey: name ?? null }, null, 2)}\n`);
  }

  private async readRecord(name: string): Promise<StoredKeyFile> {
    const path = this.file(name);
    if (!(await exists(path))) throw new AscendError('KEY_NOT_STORED', `no key named "${name}" is stored`);
    const { text, mode } = await readKeyFileBounded(path, `the stored key "${name}"`);
    if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
      throw new AscendError('KEY_FILE_PERMISSIONS', `${path} can be read by other users (mode ${mode.toString(8)})`, {
        remedy: `Run \`chmod 600 ${path}\`, then retry.`,
      });
    }
    let rec: Partial<StoredKeyFile>;
    try {
      rec = JSON.parse(text) as Partial<StoredKeyFile>;
    } catch (cause) {
      throw new AscendError('KEY_JSON_INVALID', `${path} is not a valid stored key (not JSON)`, { cause });
    }
    if (
      typeof rec !== 'object' ||
      rec === null ||
      typeof rec.keyId !== 'string' ||
      typeof rec.privateKey !== 'string' ||
      !(typeof rec.issuerId === 'string' || rec.issuerId === null)
    ) {
      throw new AscendError('KEY_JSON_INVALID', `${path} is not a valid stored key (fields missing)`);
    }
    return {
      name,
      keyId: rec.keyId,
      issuerId: rec.issuerId,
      inHouse: rec.inHouse === true,
      privateKey: rec.privateKey,
      createdAt: typeof rec.createdAt === 'string' ? rec.createdAt : '',
    };
  }
}

export interface UnreadableKeyFile {
  file: string;
  code: string;
  problem: string;
}

/**
 * Makes a private folder, or checks an existing one. An existing folder that others can read is refused,
 * not silently chmod'ed: it may be shared on purpose, and the user should decide.
 */
async function privateFolder(path: string, what: string): Promise<void> {
  let mode: number | undefined;
  try {
    const st = await stat(path);
    if (!st.isDirectory()) {
      throw new AscendError('HOME_PERMISSIONS', `${what} ${path} is not a folder`, {
        remedy: 'Point ASCEND_HOME at a folder (it is made, owner-only, when missing).',
      });
    }
    mode = st.mode & 0o777;
  } catch (err) {
    if (err instanceof AscendError) throw err;
  }
  if (mode === undefined) {
    await mkdir(path, { recursive: true, mode: 0o700 });
    return;
  }
  if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
    throw new AscendError(
      'HOME_PERMISSIONS',
      `${what} ${path} can be read by other users (mode ${mode.toString(8)}); keys are not stored there`,
      { remedy: `Run \`chmod 700 ${path}\` (or point ASCEND_HOME at a private folder), then retry.` },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes owner-only, via a temporary file and rename, so a crash never leaves half a key file. */
export async function atomicWrite(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, path);
}
