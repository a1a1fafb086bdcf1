import type { AscClient } from '../asc/http/client.js';
import { type Build, getBuild } from '../asc/resources/builds.js';
import type { Clock, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { pollUntil } from '../core/poll.js';

/**
 * Polls a build until Apple has processed it, with backoff (1 s growing to 15 s) and one deadline: VALID
 * returns, INVALID or FAILED throw with exit 7, the deadline throws with exit 8. Never hangs.
 */
export async function waitForBuild(
  client: AscClient,
  buildId: string,
  o: { deadline: number; clock: Clock; sleep: Sleep; signal?: AbortSignal; onState?: (s: string) => void },
): Promise<Build> {
  const b = await pollUntil(
    async () => (await getBuild(client, buildId)).data,
    (x) => x.attributes?.processingState !== 'PROCESSING',
    {
      ...o,
      onValue: (x) => o.onState?.(x.attributes?.processingState ?? 'UNKNOWN'),
      onDeadline: () =>
        new AscendError('DEADLINE_EXCEEDED', `build ${buildId} is still processing at the deadline`, {
          remedy: `Check again later with \`ascend builds wait ${buildId}\`; running the same deploy again uploads nothing twice.`,
        }),
    },
  );
  const s = b.attributes?.processingState ?? 'UNKNOWN';
  if (s !== 'VALID') {
    throw new AscendError('UPLOAD_REJECTED', `Apple processed build ${buildId} as ${s}`, {
      remedy:
        'Open the build in App Store Connect → TestFlight for Apple’s reasons, fix them, raise the build number and upload again.',
    });
  }
  return b;
}
