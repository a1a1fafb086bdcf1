import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AscendError } from '../core/errors.js';

/** One certificate whose private key this machine holds. */
export interface HeldCertificate {
  certificateId: string;
  certificateType: string;
  serialNumber: string;
  expirationDate: string;
  /** Base64 DER of the certificate as Apple issued it. */
  certificateContent: string;
  /** PKCS#8 PEM. Never printed. */
  privateKeyPem: string;
  createdAt: string;
}

/**
 * A private key made for a certificate not issued yet. It is saved before the create, so a run killed
 * between Apple's answer and saving the certificate leaves the key here, not a certificate nobody can use.
 */
export interface PendingKey {
  /** Base64 DER SubjectPublicKeyInfo: matched against the public key of the certificates Apple lists. */
  spki: string;
  /** PKCS#8 PEM. Never printed. */
  privateKeyPem: string;
  createdAt: string;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Where `ensureSigning` keeps certificate private keys: a folder under $ASCEND_HOME for the CLI
 * (SigningKeyStore), the team's vault on the server (src/server/store/signing-keys.ts).
 */
export interface SigningKeys {
  /** Where the keys live, as messages name it. */
  readonly home: string;
  save(entry: HeldCertificate): Promise<void>;
  /** Keeps a key before its certificate is asked for (see PendingKey). */
  savePending(entry: PendingKey): Promise<void>;
  /** Keys whose certificate create may or may not have reached Apple; unreadable entries are skipped. */
  pending(): Promise<PendingKey[]>;
  removePending(spki: string): Promise<void>;
  get(id: string): Promise<HeldCertificate | undefined>;
  /** Ids of every held certificate, sorted. */
  ids(): Promise<string[]>;
  remove(id: string): Promise<boolean>;
}

/**
 * Private keys of signing certificates under `$ASCEND_HOME/signing/certificates/<id>.json`, owner-only,
 * written atomically (the same rules as the API key store, src/credentials/store.ts). A file others can read is
 * refused, because a leaked distribution key can sign as the team until the certificate is revoked.
 */
export class SigningKeyStore implements SigningKeys {
  constructor(readonly home: string) {}

  private get dir(): string {
    return join(this.home, 'signing', 'certificates');
  }

  private file(id: string): string {
    if (!ID.test(id)) throw new AscendError('ASC_REQUEST_INVALID', `"${id}" is not a certificate id ascend can store`);
    return join(this.dir, `${id}.json`);
  }

  private get pendingDir(): string {
    return join(this.home, 'signing', 'pending');
  }

  private pendingFile(spki: string): string {
    return join(this.pendingDir, `${createHash('sha256').update(spki).digest('hex').slice(0, 32)}.json`);
  }

  async save(entry: HeldCertificate): Promise<void> {
    await this.writePrivate(this.dir, this.file(entry.certificateId), entry);
  }

  /** Keeps a key before its certificate is asked for (see PendingKey). */
  async savePending(entry: PendingKey): Promise<void> {
    await this.writePrivate(this.pendingDir, this.pendingFile(entry.spki), entry);
  }

  /** Keys whose certificate create may or may not have reached Apple; unreadable entries are skipped. */
  async pending(): Promise<PendingKey[]> {
    let names: string[];
    try {
      names = (await readdir(this.pendingDir)).filter((f) => /^[0-9a-f]{32}\.json$/.test(f));
    } catch {
      return [];
    }
    const out: PendingKey[] = [];
    for (const name of names.sort()) {
      try {
        const entry = JSON.parse(await readFile(join(this.pendingDir, name), 'utf8')) as PendingKey;
        if (typeof entry.spki === 'string' && typeof entry.privateKeyPem === 'string') out.push(entry);
      } catch {
        // half-written by a run killed while saving it: no create was sent after it, so nothing is lost
      }
    }
    return out;
  }

  async removePending(spki: string): Promise<void> {
    await rm(this.pendingFile(spki), { force: true });
  }

  /** Owner-only folder and file, written atomically. */
  private async writePrivate(dir: string, path: string, entry: unknown): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(join(this.home, 'signing'), 0o700);
    await chmod(dir, 0o700);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, path);
  }

  async get(id: string): Promise<HeldCertificate | undefined> {
    const path = this.file(id);
    let mode: number;
    try {
      mode = (await stat(path)).mode;
    } catch {
      return undefined;
    }
    if ((mode & 0o077) !== 0) {
      throw new AscendError(
        'KEY_FILE_PERMISSIONS',
        `${path} can be read by other users (mode ${(mode & 0o777).toString(8)})`,
        {
          remedy: `Run \`chmod 600 ${path}\`, and revoke the certificate (\`ascend signing revoke ${id}\`) if others may have copied it.`,
        },
      );
    }
    try {
      return JSON.parse(await readFile(path, 'utf8')) as HeldCertificate;
    } catch (cause) {
      throw new AscendError('KEY_JSON_INVALID', `${path} is not a valid stored signing key`, {
        cause,
        remedy: `Remove ${path} and revoke its certificate with \`ascend signing revoke ${id}\`.`,
      });
    }
  }

  /** Ids of every held certificate. */
  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -5))
        .filter((id) => ID.test(id))
        .sort();
    } catch {
      return [];
    }
  }

  async remove(id: string): Promise<boolean> {
    const path = this.file(id);
    try {
      await rm(path);
      return true;
    } catch {
      return false;
    }
  }
}
