import { resolve } from 'node:path';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

/**
 * `ascend server worker-token` (docs/SERVER.md, "Workers on other machines"): an operator command on the
 * server's machine. Makes a worker token and prints it once (only its hash is kept), or lists or revokes them.
 */
export async function run(
  rt: Runtime,
  _args: ArgsOf<'serverWorkerToken'>,
  opts: OptionsOf<'serverWorkerToken'>,
): Promise<number> {
  const [{ openStore, storeLocation }, { migrate }, { systemDeps }, tokens] = await Promise.all([
    import('../../server/store/open.js'),
    import('../../server/store/migrate.js'),
    import('../../server/store/ids.js'),
    import('../../server/accounts/worker-tokens.js'),
  ]);
  const store = await openStore(storeLocation(opts.databaseUrl, resolve(rt.config.cwd, opts.data)));
  try {
    await migrate(store);
    if (opts.revoke) {
      await tokens.revokeWorkerToken(store, systemDeps, opts.revoke);
      rt.out.print(`worker token ${opts.revoke} revoked`);
    } else if (opts.list) {
      const all = await tokens.listWorkerTokens(store);
      if (rt.config.json) rt.out.json({ data: all });
      else
        for (const t of all)
          rt.out.print(`${t.id}  ${t.name}  ${t.prefix}…  ${t.revokedAt ? `revoked ${t.revokedAt}` : 'active'}`);
    } else {
      const { token, info } = await tokens.createWorkerToken(store, systemDeps, { name: opts.name });
      rt.out.note(`worker token ${info.id} (${info.name}); it is shown once — pass it to \`ascend worker --token\``);
      rt.out.print(token);
    }
    return 0;
  } finally {
    await store.close();
  }
}
