import type { AscClient } from '../asc/http/client.js';
import { type Build, getBuild } from '../asc/resources/builds.js';
import type { Clock, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';

/**
 * Polls a build until Apple has processed it, with backoff (1 s growing to 15 s) and one deadline: VALID
 * returns, INVALID or FAILED throw with exit 7, the deadline throws with exit 8. Never hangs.
 */
export async function waitForBuild(
  client: AscClient,
  buildId: string,
  o: { deadline: number; clock: Clock; sleep: Sleep; signal?: AbortSignal; onState?: (s: string) => void },
): Promise<Build> {
  let delay = 1000;
  let b = (await getBuild(client, buildId)).data;
  o.onState?.(b.attributes?.processingState ?? 'UNKNOWN');
  while (b.attributes?.processingState === 'PROCESSING') {
    const left = o.deadline - o.clock.now();
    if (left <= 0) {
      throw new AscendError('DEADLINE_EXCEEDED', `build ${buildId} is still processing at the deadline`, {
        remedy: `Check again later with \`ascend builds wait ${buildId}\`; running the same deploy again uploads nothing twice.`,
      });
    }
    await o.sleep(Math.min(delay, left), o.signal);
    delay = Math.min(15_000, Math.round(delay * 1.5));
    b = (await getBuild(client, buildId)).data;
  }
  const s = b.attributes?.processingState ?? 'UNKNOWN';
  o.onState?.(s);
  if (s !== 'VALID') {
    throw new AscendError('UPLOAD_REJECTED', `Apple processed build ${buildId} as ${s}`, {
      remedy:
        'Open the build in App Store Connect → TestFlight for Apple’s reasons, fix them, raise the build number and upload again.',
    });
  }
  return b;
}
