import { listApps } from '../../asc/resources/apps.js';
import { table } from '../io.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

export async function run(rt: Runtime, _args: ArgsOf<'appsList'>, _opts: OptionsOf<'appsList'>): Promise<number> {
  const apps = await listApps(await rt.client());
  if (rt.config.json) {
    rt.out.json({ apps: apps.map((a) => ({ id: a.id, ...a.attributes })) });
  } else {
    rt.out.print(
      table(
        ['ID', 'BUNDLE ID', 'NAME', 'SKU'],
        apps.map((a) => [a.id, a.attributes?.bundleId, a.attributes?.name, a.attributes?.sku]),
      ),
    );
  }
  return 0;
}
