import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { RateLimitTracker } from '../../src/asc/http/rate-limit.js';
import { systemClock } from '../../src/core/clock.js';
import { clientFor, quickSleep, runDeploy, sampleIpa } from '../helpers/deploy.js';

/**
 * 8 deploys in parallel in one process share one per-key budget (from X-Rate-Limit) and one token, and
 * back off together when the quota runs out instead of each hammering 429s.
 */
describe('shared rate-limit budget', () => {
  let sim: Simulator;
  beforeAll(async () => {
    // A small quota over a short window stands in for Apple's hourly one.
    sim = await startSimulator({
      rateLimitPerHour: 60,
      rateWindowSeconds: 2,
      processingSeconds: 0.1,
      reviewSeconds: 0.05,
      partSizeBytes: 128 * 1024,
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('8 parallel deploys finish with one token and a bounded number of 429s', async () => {
    const key = sim.createKey();
    const tracker = new RateLimitTracker(systemClock, quickSleep);
    const first = clientFor(sim, key, { rateLimit: tracker });
    const files = await Promise.all(Array.from({ length: 8 }, (_, i) => sampleIpa('6.0.0', String(i + 1))));
    const reports = await Promise.all(
      files.map((f) =>
        runDeploy(clientFor(sim, key, { rateLimit: tracker, tokens: first.tokens }).client, f, {
          groups: ['Internal Testers'],
        }),
      ),
    );
    expect(reports.every((r) => r.build?.processingState === 'VALID')).toBe(true);
    expect((first.tokens as unknown as { minted: number }).minted).toBe(1);
    // The quota ran out several times (100 per 2 s for ~250 requests), yet 429s stay a small share.
    const total = [...sim.stats.values()].reduce((a, b) => a + b, 0);
    expect(tracker.limited).toBeGreaterThan(0);
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
