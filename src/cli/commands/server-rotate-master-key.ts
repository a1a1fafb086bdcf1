import { resolve } from 'node:path';
import { AscendError } from '../../core/errors.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

/**
 * `ascend server rotate-master-key` (docs/SERVER.md "Rotating the master key"): re-wraps every data key under
 * a new master key in batches while servers keep running, then swaps the key files. Prints one line: how
 * many secrets, from which key id to which (ids name keys without revealing them).
 */
export async function run(
  rt: Runtime,
  _args: ArgsOf<'serverRotateMasterKey'>,
  opts: OptionsOf<'serverRotateMasterKey'>,
): Promise<number> {
  const batchSize = Number(opts.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new AscendError('USAGE', `--batch-size ${opts.batchSize} is not a whole number from 1 to 10000`);
  const dataDir = resolve(rt.config.cwd, opts.data);
  const [{ openStore, storeLocation }, { migrate }, { systemDeps }, { rotateKeyFiles }] = await Promise.all([
    import('../../server/store/open.js'),
    import('../../server/store/migrate.js'),
    import('../../server/store/ids.js'),
    import('../../server/vault/rotate-files.js'),
  ]);
  const store = await openStore(storeLocation(opts.databaseUrl, dataDir));
  try {
    await migrate(store);
    const r = await rotateKeyFiles(store, systemDeps, {
      dataDir,
      envValue: rt.config.env.ASCEND_MASTER_KEY,
      newKeyFile: opts.newKeyFile ? resolve(rt.config.cwd, opts.newKeyFile) : undefined,
      batchSize,
      onBatch: (n) => rt.out.note(`re-wrapped ${n} secret(s)`),
    });
    rt.out.print(`master key rotated: ${r.rewrapped} secret(s) re-wrapped, ${r.from.join(', ')} → ${r.to}`);
    if (r.swapped) rt.out.note(`the old key is kept in ${dataDir}/master.key.previous until the next rotation`);
    else
      rt.out.note(
        `set ASCEND_MASTER_KEY to the key in ${r.newKeyPath} and ASCEND_MASTER_KEY_PREVIOUS to the old one, then restart`,
      );
    return 0;
  } finally {
    await store.close();
  }
}
