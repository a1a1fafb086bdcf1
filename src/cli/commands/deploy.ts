import { realSleep, systemClock } from '../../core/clock.js';
import { deploy } from '../../release/deploy.js';
import type { Runtime } from '../runtime.js';
import { progressFor, withTransfer } from '../session.js';
import type { ArgsOf } from '../spec.js';
import { type DeployFlags, deployOptions } from './release-flags.js';
import { renderEvents, renderReport } from './release-render.js';

/** `ascend deploy FILE`: parse, run the deploy pipeline, render. */
export async function run(rt: Runtime, [file]: ArgsOf<'deploy'>, flags: DeployFlags): Promise<number> {
  const options = await deployOptions(file, flags, systemClock.now());
  const client = await rt.client();
  const individualKey = (await rt.key()).issuerId === undefined;
  const onEvent = renderEvents(progressFor(rt));
  const report = await withTransfer(rt, options.concurrency, ({ transport, signal, state }) =>
    deploy(
      { ...options, individualKey, extraTrustedRoots: rt.config.extraTrustedRoots },
      { client, state, clock: systemClock, sleep: realSleep, random: Math.random, transport, signal, onEvent },
    ),
  );
  renderReport(rt, report);
  return 0;
}
