import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { validateIssuerId, validateKeyId, validatePrivateKey } from './key.js';
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
  if (!NAME.test(name)) throw new AscendError('KEY_NAME_INVALID', `"${name}" is not a valid key name`);
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
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.home, 0o700).catch(() => {});
    await chmod(this.dir, 0o700);
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

  async list(): Promise<StoredKeyInfo[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    } catch {
      return [];
    }
    const def = await this.defaultName();
    const out: StoredKeyInfo[] = [];
    for (const name of names.sort()) {
      const rec = await this.readRecord(name);
      out.push({
        name,
        keyId: rec.keyId,
        issuerId: rec.issuerId,
        individual: rec.issuerId === null,
        inHouse: rec.inHouse,
        isDefault: name === def,
        createdAt: rec.createdAt,
      });
    }
    return out;
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
      const cfg = JSON.parse(await readFile(join(this.home, 'config.json'), 'utf8')) as { defaultKey?: string };
      return cfg.defaultKey ?? undefined;
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
    let mode: number;
    try {
      mode = (await stat(path)).mode;
    } catch {
      throw new AscendError('KEY_NOT_STORED', `no key named "${name}" is stored`);
    }
    if ((mode & 0o077) !== 0) {
      throw new AscendError(
        'KEY_FILE_PERMISSIONS',
        `${path} can be read by other users (mode ${(mode & 0o777).toString(8)})`,
        {
          remedy: `Run \`chmod 600 ${path}\`, then retry.`,
        },
      );
    }
    try {
      return JSON.parse(await readFile(path, 'utf8')) as StoredKeyFile;
    } catch (cause) {
      throw new AscendError('KEY_JSON_INVALID', `${path} is not a valid stored key`, { cause });
    }
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
