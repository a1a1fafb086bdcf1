import { join } from 'node:path';
import { resolveApp } from '../../asc/resources/apps.js';
import { realSleep, systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { AscendError } from '../../core/errors.js';
import { JsonFileStateStore } from '../../core/state.js';
import { inspectIpa } from '../../ipa/inspect.js';
import { preflight } from '../../ipa/preflight.js';
import { assertRemotePreflight, gatherRemoteState } from '../../release/preflight-remote.js';
import { uploadBuild } from '../../release/upload-build.js';
import type { Runtime } from '../runtime.js';
import { progressFor, withTransfer } from '../session.js';

/** Measured in bench/RESULTS.md: enough parallel parts to fill a link whose connections are capped. */
export const DEFAULT_CONCURRENCY = 12;

export async function run(rt: Runtime, args: unknown[], opts: Record<string, unknown>): Promise<number> {
  const file = String(args[0]);
  const concurrency = Number(opts.concurrency ?? DEFAULT_CONCURRENCY);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new AscendError('USAGE', `--concurrency ${String(opts.concurrency)} is not a whole number from 1 to 64`);
  }
  const timeoutMs = parseDuration(String(opts.timeout ?? '60m'));
  const deadline = systemClock.now() + timeoutMs;

  // Local checks first: a broken IPA stops here, before anything exists on Apple's side.
  const facts = await inspectIpa(file, { extraTrustedRoots: rt.config.extraTrustedRoots });
  const local = preflight(facts, { now: new Date(), target: 'app-store' });
  const errors = local.filter((f) => f.severity === 'error');
  const progress = progressFor(rt);
  for (const w of local.filter((f) => f.severity === 'warning'))
    progress.note(`warning ${w.code}`, `${w.message} — ${w.fix}`);
  if (errors.length) {
    for (const e of errors) rt.io.stderr(`error ${e.code}: ${e.message} — ${e.fix}\n`);
    throw new AscendError(
      'PREFLIGHT_FAILED',
      `${errors.length} preflight error${errors.length > 1 ? 's' : ''} in ${file} (${errors.map((f) => f.code).join(', ')})`,
    );
  }
  if (facts.kind === 'pkg')
    throw new AscendError('USAGE', `${file} is a macOS .pkg; uploading .pkg files is not supported yet`, {
      remedy: 'Upload an .ipa (iOS, tvOS, visionOS).',
    });
  const app = facts.app!;
  const platform = facts.platform ?? 'IOS';
  const client = await rt.client();
  const ascApp = await resolveApp(client, app.bundleId!);
  const state = new JsonFileStateStore(join(rt.config.home, 'state'));
  const input = {
    file,
    appId: ascApp.id,
    platform,
    version: app.shortVersion!,
    buildNumber: app.buildVersion!,
    concurrency,
    wait: opts.wait !== false,
    deadline,
  };
  if (!(await state.get(`upload-${input.appId}-${platform}-${input.version}-${input.buildNumber}`))) {
    assertRemotePreflight(facts, await gatherRemoteState(client, ascApp, input.version, platform));
  }
  const result = await withTransfer(rt, concurrency, ({ transport, signal }) =>
    uploadBuild(input, {
      client,
      state,
      clock: systemClock,
      sleep: realSleep,
      random: Math.random,
      transport,
      signal,
      onEvent: (e) => {
        if (e.type === 'progress') progress.progress(e.sent, e.total);
        else if (e.type === 'step') progress.note(e.step, e.detail);
        else progress.note('state', e.state);
      },
    }),
  );
  const doc = {
    app: { id: ascApp.id, bundleId: ascApp.attributes?.bundleId },
    version: input.version,
    buildNumber: input.buildNumber,
    platform,
    buildUpload: { id: result.uploadId, state: result.state, resumed: result.resumed, warnings: result.warnings },
    file: { id: result.fileId, md5: result.md5 },
    build: result.buildId ? { id: result.buildId } : null,
  };
  if (rt.config.json) rt.out.json(doc);
  else
    rt.out.print(
      result.buildId
        ? `uploaded ${ascApp.attributes?.bundleId} ${input.version} (${input.buildNumber}): build ${result.buildId}, upload ${result.uploadId} ${result.state}`
        : `uploaded ${ascApp.attributes?.bundleId} ${input.version} (${input.buildNumber}): upload ${result.uploadId} is processing (not waiting)`,
    );
  return 0;
}
