import { resolveApp } from '../../asc/resources/apps.js';
import { AscendError } from '../../core/errors.js';
import { isDottedVersion } from '../../core/versions.js';
import { nextBuildNumber } from '../../release/build-number.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

export async function run(
  rt: Runtime,
  _args: ArgsOf<'buildsNextNumber'>,
  opts: OptionsOf<'buildsNextNumber'>,
): Promise<number> {
  const version = opts.version;
  if (!isDottedVersion(version)) throw new AscendError('VERSION_INVALID', `--version "${version}" is not a version`);
  const client = await rt.client();
  const app = await resolveApp(client, opts.app);
  const report = await nextBuildNumber(client, app.id, version, opts.platform);
  if (rt.config.json) rt.out.json(report);
  else {
    rt.out.print(report.next);
    rt.out.note(
      report.highest
        ? `highest in use for ${version}: ${report.highest} (counted ${inUse(report.used)})`
        : `no builds or uploads yet for ${version}`,
    );
  }
  return 0;
}

/** "5 builds and 3 uploads in flight": processed builds and live uploads are different things to count. */
export function inUse(used: { source: 'build' | 'buildUpload' }[]): string {
  const builds = used.filter((u) => u.source === 'build').length;
  const uploads = used.length - builds;
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  const parts = [
    builds ? n(builds, 'build', 'builds') : '',
    uploads ? `${n(uploads, 'upload', 'uploads')} in flight` : '',
  ];
  return parts.filter(Boolean).join(' and ');
}
