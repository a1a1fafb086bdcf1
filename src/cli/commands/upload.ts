import { realSleep, systemClock } from '../../core/clock.js';
import { runRelease, UPLOAD_STEPS } from '../../release/deploy.js';
import type { Runtime } from '../runtime.js';
import { progressFor, withTransfer } from '../session.js';
import type { ArgsOf } from '../spec.js';
import { type UploadFlags, uploadOptions } from './release-flags.js';
import { renderEvents, renderUpload } from './release-render.js';

/** `ascend upload FILE`: the deploy pipeline's checks and upload step, nothing after. */
export async function run(rt: Runtime, [file]: ArgsOf<'upload'>, flags: UploadFlags): Promise<number> {
  const options = uploadOptions(file, flags, systemClock.now());
  const client = await rt.client();
  const onEvent = renderEvents(progressFor(rt));
  const { out } = await withTransfer(rt, options.concurrency, ({ transport, signal, state }) =>
    runRelease(
      UPLOAD_STEPS,
      { ...options, extraTrustedRoots: rt.config.extraTrustedRoots },
      {
        client,
        state,
        clock: systemClock,
        sleep: realSleep,
        random: Math.random,
        transport,
        signal,
        onEvent,
      },
    ),
  );
  renderUpload(rt, out);
  return 0;
}
