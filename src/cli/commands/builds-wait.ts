import { realSleep, systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { waitForBuild } from '../../release/wait-build.js';
import type { Runtime } from '../runtime.js';

/** `ascend builds wait BUILD_ID [--timeout]`: exit 0 when VALID, 7 when INVALID/FAILED, 8 at the deadline. */
export async function run(rt: Runtime, args: unknown[], opts: Record<string, unknown>): Promise<number> {
  const id = String(args[0]);
  const deadline = systemClock.now() + parseDuration(String(opts.timeout ?? '30m'));
  let last = '';
  const b = await waitForBuild(await rt.client(), id, {
    deadline,
    clock: systemClock,
    sleep: realSleep,
    onState: (s) => {
      if (s !== last) rt.out.note(`build ${id}: ${s}`);
      last = s;
    },
  });
  if (rt.config.json) rt.out.json({ build: { id: b.id, ...b.attributes } });
  else rt.out.print(`build ${b.id} ${b.attributes?.version ?? ''} is ${b.attributes?.processingState}`);
  return 0;
}
