import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { clientFor, runDeploy, sampleIpa } from '../helpers/deploy.js';

/**
 * DESIGN §4: with `--faults 5xx=0.05,reset=0.02,429=0.01,drop-response=0.01` and 50 ms latency, every deploy
 * still ends right, once: 10 deploys → 10 builds, each in its groups once, one "What to Test", one beta
 * review, one completed upload and no orphan.
 */
describe('fault soak: 10 deploys through faults on every route', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      faults: '5xx=0.05,reset=0.02,429=0.01,drop-response=0.01',
      faultSeed: Number(process.env.ASCEND_FAULT_SEED ?? 2026),
      latencyMs: 50,
      processingSeconds: 0.1,
      reviewSeconds: 0.05,
      partSizeBytes: 128 * 1024,
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('every deploy ends right, exactly once', async () => {
    const key = sim.createKey();
    const { client } = clientFor(sim, key);
    for (let i = 1; i <= 10; i++) {
      const report = await runDeploy(client, await sampleIpa('5.0.0', String(i)));
      expect(report.build?.processingState).toBe('VALID');
    }
    const builds = sim.store
      .list('builds')
      .filter(
        (b) => sim.store.get('preReleaseVersions', b.rels.preReleaseVersion as string)?.attributes.version === '5.0.0',
      );
    expect(builds.map((b) => Number(b.attributes.version)).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    const groups = sim.store
      .list('betaGroups')
      .filter((g) => g.rels.app === '1000000001')
      .map((g) => g.id);
    for (const b of builds) {
      expect([...(b.rels.betaGroups as string[])].sort()).toEqual([...groups].sort());
      expect(sim.store.list('betaBuildLocalizations').filter((l) => l.rels.build === b.id)).toHaveLength(1);
      expect(sim.store.list('betaAppReviewSubmissions').filter((s) => s.rels.build === b.id)).toHaveLength(1);
    }
    const uploads = sim.store.list('buildUploads').filter((u) => u.attributes.cfBundleShortVersionString === '5.0.0');
    expect(uploads.map((u) => (u.attributes.state as { state: string }).state)).toEqual(Array(10).fill('COMPLETE'));
    expect(sim.store.list('buildUploadFiles')).toHaveLength(10);
  }, 240_000);
});
