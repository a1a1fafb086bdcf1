import { resolveApp } from '../../asc/resources/apps.js';
import type { Platform } from '../../asc/resources/common.js';
import { AscendError } from '../../core/errors.js';
import { isDottedVersion } from '../../core/versions.js';
import { nextBuildNumber } from '../../release/build-number.js';
import type { Runtime } from '../runtime.js';

export async function run(rt: Runtime, _args: unknown[], opts: Record<string, unknown>): Promise<number> {
  const version = String(opts.version);
  if (!isDottedVersion(version)) throw new AscendError('VERSION_INVALID', `--version "${version}" is not a version`);
  const client = await rt.client();
  const app = await resolveApp(client, String(opts.app));
  const report = await nextBuildNumber(client, app.id, version, opts.platform as Platform);
  if (rt.config.json) rt.out.json(report);
  else {
    rt.out.print(report.next);
    rt.out.note(
      report.highest
        ? `highest in use for ${version}: ${report.highest} (${report.used.length} builds and uploads in flight counted)`
        : `no builds or uploads yet for ${version}`,
    );
  }
  return 0;
}
