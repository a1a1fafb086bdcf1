import { realSleep, systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { waitForBuild } from '../../release/wait-build.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

/** `ascend builds wait BUILD_ID [--timeout]`: exit 0 when VALID, 7 when INVALID/FAILED, 8 at the deadline. */
export async function run(rt: Runtime, [id]: ArgsOf<'buildsWait'>, opts: OptionsOf<'buildsWait'>): Promise<number> {
  const deadline = systemClock.now() + parseDuration(opts.timeout);
  let last = '';
  const b = await waitForBuild(await rt.client(), id, {
    deadline,
    clock: systemClock,
    sleep: realSleep,
    signal: rt.signal,
    onState: (s) => {
      if (s !== last) rt.out.note(`build ${id}: ${s}`);
      last = s;
    },
  });
  if (rt.config.json) rt.out.json({ build: { id: b.id, ...b.attributes } });
  else rt.out.print(`build ${b.id} ${b.attributes?.version ?? ''} is ${b.attributes?.processingState}`);
  return 0;
}
