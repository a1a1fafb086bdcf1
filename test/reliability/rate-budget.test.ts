import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { RateLimitTracker } from '../../src/asc/http/rate-limit.js';
import type { CountingTokenProvider } from '../../src/credentials/token.js';
import { clientFor, runDeploy, sampleIpa, type TestTime } from '../helpers/deploy.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

/**
 * 8 deploys in parallel in one process share one per-key budget (from X-Rate-Limit) and one token, and
 * back off together when the quota runs out instead of each hammering 429s. The simulator, the token, the
 * tracker and every wait run on one virtual clock, so the quota window is measured in the same time the
 * clients wait in, whatever the machine's speed.
 */
describe('shared rate-limit budget', () => {
  let sim: Simulator;
  const clock = new VirtualClock();
  const time: TestTime = { clock, sleep: clock.sleep };
  const QUOTA = 60;
  const WINDOW_MS = 2000;
  beforeAll(async () => {
    // A small quota over a short window stands in for Apple's hourly one.
    sim = await startSimulator({
      rateLimitPerHour: QUOTA,
      rateWindowSeconds: WINDOW_MS / 1000,
      processingSeconds: 0.1,
      reviewSeconds: 0.05,
      partSizeBytes: 128 * 1024,
      clock,
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('8 parallel deploys finish with one token and a bounded number of 429s', async () => {
    const key = sim.createKey();
    const tracker = new RateLimitTracker(clock, clock.sleep);
    const first = clientFor(sim, key, { rateLimit: tracker, time });
    const files = await Promise.all(Array.from({ length: 8 }, (_, i) => sampleIpa('6.0.0', String(i + 1))));
    const started = clock.now();
    const reports = await Promise.all(
      files.map((f) =>
        runDeploy(
          clientFor(sim, key, { rateLimit: tracker, tokens: first.tokens, time }).client,
          f,
          { groups: ['Internal Testers'] },
          undefined,
          time,
        ),
      ),
    );
    const elapsed = clock.now() - started;
    expect(reports.every((r) => r.build?.processingState === 'VALID')).toBe(true);
    // One token per ~18 minutes of (virtual) time, shared by all eight.
    expect((first.tokens as CountingTokenProvider).minted).toBe(1 + Math.floor(elapsed / (18 * 60_000)));
    const total = [...sim.stats.values()].reduce((a, b) => a + b, 0);
    // The quota ran out: more API requests than one window allows were needed.
    expect(total).toBeGreaterThan(QUOTA);
    expect(tracker.limited).toBeGreaterThan(0);
    // After a 429 the key pauses: at most the eight deploys' requests in flight come back 429 per window that
    // ran out, so the 429s stay a small share of all requests.
    const windowsNeeded = Math.ceil(total / QUOTA);
    expect(tracker.limited).toBeLessThanOrEqual(8 * windowsNeeded);
    expect(tracker.limited).toBeLessThan(total / 4);
    expect(
      sim.store
        .list('builds')
        .filter(
          (b) =>
            sim.store.get('preReleaseVersions', b.rels.preReleaseVersion as string)?.attributes.version === '6.0.0',
        ),
    ).toHaveLength(8);
  }, 180_000);
});
