import { realSleep, systemClock } from '../../core/clock.js';
import { runRelease, UPLOAD_STEPS } from '../../release/deploy.js';
import type { Runtime } from '../runtime.js';
import { progressFor, withTransfer } from '../session.js';
import { type UploadFlags, uploadOptions } from './release-flags.js';
import { renderEvents } from './release-render.js';

/** `ascend upload FILE`: the deploy pipeline's checks and upload step, nothing after. */
export async function run(rt: Runtime, args: unknown[], flags: UploadFlags): Promise<number> {
  const options = uploadOptions(String(args[0]), flags, systemClock.now());
  const client = await rt.client();
  const onEvent = renderEvents(progressFor(rt));
  const { out } = await withTransfer(rt, options.concurrency, ({ transport, signal, state }) =>
    runRelease(UPLOAD_STEPS, options, {
      client,
      state,
      clock: systemClock,
      sleep: realSleep,
      random: Math.random,
      transport,
      signal,
      onEvent,
    }),
  );
  const [local, up] = [out.preflight!, out.upload!];
  const doc = {
    app: { id: out.resolveApp?.id, bundleId: local.bundleId },
    version: local.version,
    buildNumber: local.buildNumber,
    platform: local.platform,
    buildUpload: up.upload && {
      id: up.upload.id,
      state: up.upload.state,
      resumed: up.upload.resumed,
      warnings: up.upload.warnings,
    },
    file: up.upload && { id: up.upload.fileId, md5: up.upload.md5 },
    build: up.build && { id: up.build.id },
  };
  const what = `${local.bundleId} ${local.version} (${local.buildNumber})`;
  if (rt.config.json) rt.out.json(doc);
  else if (!up.upload) rt.out.print(`${what} is already on App Store Connect: build ${up.build?.id}`);
  else if (up.build) rt.out.print(`uploaded ${what}: build ${up.build.id}, upload ${up.upload.id} ${up.upload.state}`);
  else rt.out.print(`uploaded ${what}: upload ${up.upload.id} is processing (not waiting)`);
  return 0;
}
