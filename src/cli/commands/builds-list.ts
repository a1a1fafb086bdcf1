import { resolveApp } from '../../asc/resources/apps.js';
import { listBuilds } from '../../asc/resources/builds.js';
import { AscendError } from '../../core/errors.js';
import { isDottedVersion } from '../../core/versions.js';
import { table } from '../io.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

export async function run(rt: Runtime, _args: ArgsOf<'buildsList'>, opts: OptionsOf<'buildsList'>): Promise<number> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new AscendError('USAGE', `--limit ${opts.limit} is not a positive whole number`);
  const version = opts.version;
  if (version !== undefined && !isDottedVersion(version))
    throw new AscendError('VERSION_INVALID', `--version "${version}" is not a version`);
  const client = await rt.client();
  const app = await resolveApp(client, opts.app);
  const { builds, included } = await listBuilds(client, { appId: app.id, version, maxItems: limit });
  const trains = new Map(
    included
      .filter((r) => r.type === 'preReleaseVersions')
      .map((r) => [r.id, r.attributes as { version?: string; platform?: string }]),
  );
  const rows = builds.map((b) => {
    const prv = (b.relationships?.preReleaseVersion as { data?: { id: string } } | undefined)?.data?.id;
    const train = prv ? trains.get(prv) : undefined;
    return { id: b.id, ...b.attributes, preReleaseVersion: train?.version ?? null, platform: train?.platform ?? null };
  });
  if (rt.config.json) {
    rt.out.json({ app: { id: app.id, bundleId: app.attributes?.bundleId }, builds: rows });
  } else {
    rt.out.print(
      table(
        ['ID', 'VERSION', 'BUILD', 'STATE', 'UPLOADED', 'EXPIRED'],
        rows.map((r) => [r.id, r.preReleaseVersion, r.version, r.processingState, r.uploadedDate, r.expired]),
      ),
    );
  }
  return 0;
}
