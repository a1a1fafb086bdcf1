import { type StoreDeps, systemDeps } from './store/ids.js';
import { migrate } from './store/migrate.js';
import { openStore, type Store, storeLocation } from './store/open.js';
import { refreshStatistics } from './store/statistics.js';
import type { Keyring } from './vault/envelope.js';
import { loadKeyring } from './vault/master-key.js';
import { assertKeyringCoversSecrets, Vault } from './vault/vault.js';

export interface ServerStorageOptions {
  /** `--data` (default `./.ascend`): SQLite database and master key file when nothing else is given. */
  dataDir: string;
  /** `--database-url`; SQLite under dataDir when absent. */
  databaseUrl?: string | undefined;
  /** ASCEND_MASTER_KEY and, during a rotation, ASCEND_MASTER_KEY_PREVIOUS, as config read them. */
  masterKey?: string | undefined;
  previousMasterKey?: string | undefined;
  /** The server creates a missing master key file; workers pass false and must be given the key. */
  createMasterKey: boolean;
  deps?: StoreDeps;
}

export interface ServerStorage {
  readonly store: Store;
  readonly vault: Vault;
  readonly keyring: Keyring;
  readonly deps: StoreDeps;
  close(): Promise<void>;
}

/**
 * Everything `ascend server start` (and a worker) needs before serving: the master key (checked first, so
 * a bad key stops start-up before the database is touched), the database, its migrations, and the vault;
 * a key that does not open the stored secrets stops start-up too.
 */
export async function openServerStorage(opts: ServerStorageOptions): Promise<ServerStorage> {
  const deps = opts.deps ?? systemDeps;
  const keyOpts = {
    envValue: opts.masterKey,
    previousEnvValue: opts.previousMasterKey,
    dataDir: opts.dataDir,
    randomBytes: deps.randomBytes,
  };
  const keyring = await loadKeyring({ ...keyOpts, create: opts.createMasterKey });
  const store = await openStore(storeLocation(opts.databaseUrl, opts.dataDir));
  try {
    await migrate(store);
    await refreshStatistics(store);
    await assertKeyringCoversSecrets(store, keyring);
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    store,
    vault: new Vault(store, keyring, deps, () => loadKeyring({ ...keyOpts, create: false })),
    keyring,
    deps,
    close: () => store.close(),
  };
}
