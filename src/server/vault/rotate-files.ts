import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { AscendError } from '../../core/errors.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import {
  MASTER_KEY_FILE,
  MASTER_KEY_NEXT_FILE,
  MASTER_KEY_PREVIOUS_FILE,
  type MasterKey,
  masterKeyOf,
  parseMasterKey,
  readMasterKeyFile,
} from './master-key.js';
import { assertKeyringCoversSecrets, rotateMasterKey } from './vault.js';

export interface RotateKeyFilesOptions {
  dataDir: string;
  /** ASCEND_MASTER_KEY as config read it: then the key files are not swapped, the operator changes the variable. */
  envValue?: string | undefined;
  /** `--new-key-file`: the new key (0600, base64); otherwise one is made as `<data>/master.key.next`. */
  newKeyFile?: string | undefined;
  batchSize?: number;
  /** Called after each batch with the number re-wrapped so far (progress; tests interrupt here). */
  onBatch?: (done: number) => void;
}

export interface RotateKeyFilesResult {
  from: string[];
  to: string;
  rewrapped: number;
  /** False when the key came from ASCEND_MASTER_KEY: the files were left alone. */
  swapped: boolean;
  /** Where the new key is when the files were not swapped. */
  newKeyPath: string;
}

/** Writes a key file through a temporary file and a rename, so the file is either the old or the new key. */
export async function writeKeyFileAtomic(path: string, key: MasterKey): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(
    path,
    `${key.key.toString('base64')}
`,
    0o600,
    { sync: true },
  );
}

async function currentKey(opts: RotateKeyFilesOptions): Promise<MasterKey> {
  if (opts.envValue) return parseMasterKey(opts.envValue, 'ASCEND_MASTER_KEY');
  const key = await readMasterKeyFile(join(opts.dataDir, MASTER_KEY_FILE));
  if (!key) {
    throw new AscendError('MASTER_KEY_INVALID', `no master key: ASCEND_MASTER_KEY is unset and master.key is missing`, {
      remedy: 'Run rotate-master-key with the --data folder of the server, or set ASCEND_MASTER_KEY.',
    });
  }
  return key;
}

/**
 * The new key is on disk (0600, synced) before the first secret is re-wrapped: an interrupted rotation leaves
 * some secrets under it, and a re-run (or a restart, which loads master.key.next) must find it again.
 */
async function nextKey(opts: RotateKeyFilesOptions, deps: StoreDeps): Promise<{ key: MasterKey; path: string }> {
  const path = join(opts.dataDir, MASTER_KEY_NEXT_FILE);
  if (opts.newKeyFile) {
    const given = await readMasterKeyFile(opts.newKeyFile);
    if (!given) {
      throw new AscendError('MASTER_KEY_INVALID', `--new-key-file ${opts.newKeyFile} does not exist`, {
        remedy: 'Make one with `openssl rand -base64 32 > FILE && chmod 600 FILE`, or leave the flag out.',
      });
    }
    const pending = await readMasterKeyFile(path);
    if (pending && pending.id !== given.id) {
      throw new AscendError('USAGE', `an interrupted rotation to another key is pending in ${path}`, {
        remedy: 'Re-run rotate-master-key without --new-key-file to finish it first.',
      });
    }
    if (!pending) await writeKeyFileAtomic(path, given);
    return { key: given, path };
  }
  const pending = await readMasterKeyFile(path);
  if (pending) return { key: pending, path };
  const key = masterKeyOf(deps.randomBytes(32));
  await writeKeyFileAtomic(path, key);
  return { key, path };
}

/**
 * `ascend server rotate-master-key`: re-wraps every data key under a new master key while servers keep
 * running, then swaps the key files: master.key.previous ← the old key, master.key ← the new one. Running
 * servers open secrets under either key (they load master.key.next and master.key.previous, and reload
 * on a key they do not know). Interrupted at any point, every secret opens with the old or the new key and
 * a re-run finishes the job.
 */
export async function rotateKeyFiles(
  store: Store,
  deps: StoreDeps,
  opts: RotateKeyFilesOptions,
): Promise<RotateKeyFilesResult> {
  const current = await currentKey(opts);
  const previous = opts.envValue ? undefined : await readMasterKeyFile(join(opts.dataDir, MASTER_KEY_PREVIOUS_FILE));
  const next = await nextKey(opts, deps);
  const olds = [current, ...(previous ? [previous] : [])].filter((k) => k.id !== next.key.id);
  if (olds.length === 0 || current.id === next.key.id) {
    throw new AscendError('USAGE', 'the new master key is the current one', {
      remedy: 'Give --new-key-file a different key, or leave it out to have one made.',
    });
  }
  // Every wrapped secret must be under a key we hold, or it would be stranded when master.key.previous is replaced.
  await assertKeyringCoversSecrets(store, { current: next.key, previous: olds });
  let rewrapped = 0;
  const failed: string[] = [];
  for (const old of olds) {
    const base = rewrapped;
    const r = await rotateMasterKey(store, old, next.key, deps, {
      ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
      onBatch: (n) => opts.onBatch?.(base + n),
    });
    rewrapped += r.rewrapped;
    failed.push(...r.failed);
  }
  if (failed.length > 0) {
    throw new AscendError(
      'VAULT_SECRET_DAMAGED',
      `${failed.length} secret(s) failed their integrity check and were not re-wrapped (${failed.slice(0, 5).join(', ')})`,
      {
        remedy:
          'Store those secrets again (or remove them), then re-run rotate-master-key; the key files were not changed.',
      },
    );
  }
  const result = { from: olds.map((k) => k.id), to: next.key.id, rewrapped, newKeyPath: next.path };
  if (opts.envValue) return { ...result, swapped: false };
  // Order matters: master.key.previous first, so at every instant both keys are in some file a server loads.
  await writeKeyFileAtomic(join(opts.dataDir, MASTER_KEY_PREVIOUS_FILE), current);
  await rename(next.path, join(opts.dataDir, MASTER_KEY_FILE));
  return { ...result, swapped: true, newKeyPath: join(opts.dataDir, MASTER_KEY_FILE) };
}
