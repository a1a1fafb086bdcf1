import { idempotentWrite } from '../../asc/http/reconcile.js';
import { resolveApp } from '../../asc/resources/apps.js';
import { listBetaGroups } from '../../asc/resources/beta-groups.js';
import { addBuildToGroups, buildGroupIds, getBuild, removeBuildFromGroups } from '../../asc/resources/builds.js';
import { AscendError } from '../../core/errors.js';
import { table } from '../io.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

/** `ascend testflight groups --app A [--add-build ID | --remove-build ID] [--group NAME]...` */
export async function run(
  rt: Runtime,
  _args: ArgsOf<'testflightGroups'>,
  opts: OptionsOf<'testflightGroups'>,
): Promise<number> {
  const client = await rt.client();
  const app = await resolveApp(client, opts.app);
  const groups = await listBetaGroups(client, { appId: app.id });
  const add = opts.addBuild;
  const remove = opts.removeBuild;
  const names = opts.group ?? [];
  if (add && remove) throw new AscendError('USAGE', 'give --add-build or --remove-build, not both');
  if ((add || remove) && !names.length)
    throw new AscendError('USAGE', `--${add ? 'add' : 'remove'}-build needs at least one --group NAME`);
  if (!add && !remove && names.length)
    throw new AscendError('USAGE', '--group goes with --add-build or --remove-build');
  if (add || remove) {
    const unknown = names.filter((n) => !groups.some((g) => g.attributes?.name === n));
    if (unknown.length) {
      throw new AscendError(
        'GROUP_NOT_FOUND',
        `no beta group named ${unknown.map((n) => `"${n}"`).join(', ')}; groups: ${groups.map((g) => `"${g.attributes?.name}"`).join(', ')}`,
      );
    }
    const buildId = (add ?? remove)!;
    const build = (await getBuild(client, buildId)).data;
    const ids = names.map((n) => groups.find((g) => g.attributes?.name === n)!.id);
    const current = new Set(await buildGroupIds(client, build.id));
    const todo = ids.filter((id) => (add ? !current.has(id) : current.has(id)));
    if (todo.length) {
      // Adding or removing linkages twice equals doing it once: safe to repeat after a lost answer.
      await idempotentWrite(() =>
        add ? addBuildToGroups(client, build.id, todo) : removeBuildFromGroups(client, build.id, todo),
      );
    }
    const after = await buildGroupIds(client, build.id);
    const doc = {
      build: { id: build.id },
      changed: todo.length > 0,
      betaGroups: groups.filter((g) => after.includes(g.id)).map((g) => ({ id: g.id, name: g.attributes?.name })),
    };
    if (rt.config.json) rt.out.json(doc);
    else
      rt.out.print(
        `${todo.length ? (add ? 'added to' : 'removed from') : 'no change:'} ${names.join(', ')}; build ${build.id} is in: ${doc.betaGroups.map((g) => g.name).join(', ') || 'no group'}`,
      );
    return 0;
  }
  if (rt.config.json)
    rt.out.json({
      app: { id: app.id, bundleId: app.attributes?.bundleId },
      betaGroups: groups.map((g) => ({ id: g.id, ...g.attributes })),
    });
  else
    rt.out.print(
      table(
        ['ID', 'NAME', 'INTERNAL', 'PUBLIC LINK'],
        groups.map((g) => [g.id, g.attributes?.name, g.attributes?.isInternalGroup, g.attributes?.publicLinkEnabled]),
      ),
    );
  return 0;
}
