import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { systemClock } from '../src/core/clock.js';
import { JsonFileStateStore } from '../src/core/state.js';
import { type UploadEvent, type UploadInput, uploadBuild } from '../src/release/upload-build.js';
import { buildIpa } from '../src/sample/builder.js';
import { httpTransport } from '../src/upload/engine.js';
import { clientFor, quickSleep } from './helpers/deploy.js';

/**
 * Issue 10 item 12: two deploys of the same build at once, from one state folder (one machine) and from
 * two (two machines). Each must end with one upload, one build, every part sent once, and both runs
 * reporting that build — the second by waiting for and using the first's result.
 */
const MiB = 1024 * 1024;
let sims: Simulator[] = [];
let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  sims = [];
  dirs = [];
});

async function setup(build: string) {
  const sim = await startSimulator({ processingSeconds: 0.2, partSizeBytes: MiB, connectionBandwidthMBps: 4 });
  sims.push(sim);
  const dir = mkdtempSync(join(tmpdir(), 'ascend-two-'));
  dirs.push(dir);
  const ipa = join(dir, 'app.ipa');
  await buildIpa(ipa, { version: '3.0.0', build, payloadBytes: 4 * MiB });
  const { client } = clientFor(sim, sim.createKey({ role: 'APP_MANAGER' }));
  const transport = await httpTransport(4);
  const input: UploadInput = {
    file: ipa,
    appId: '1000000001',
    platform: 'IOS',
    version: '3.0.0',
    buildNumber: build,
    concurrency: 3,
    wait: true,
    deadline: systemClock.now() + 60_000,
  };
  const run = (stateDir: string, onEvent?: (e: UploadEvent) => void, file = ipa) =>
    uploadBuild(
      { ...input, file },
      {
        client,
        state: new JsonFileStateStore(join(dir, stateDir)),
        clock: systemClock,
        sleep: quickSleep,
        random: Math.random,
        transport,
        onEvent,
      },
    );
  const parts = () => sim.stats.get('PUT /__upload') ?? 0;
  const live = () => sim.store.list('buildUploads');
  /** Parts of the one file left reserved: what sending every part exactly once costs. */
  const planned = () => {
    const files = sim.store.list('buildUploadFiles');
    expect(files).toHaveLength(1);
    return (files[0]!.attributes.uploadOperations as unknown[]).length;
  };
  return { sim, dir, run, parts, live, planned, transport };
}

describe('two uploads of the same build at once', () => {
  it('one state folder: the second waits for the lock, then uses the first one’s build; parts are sent once', async () => {
    const { dir, run, parts, live, planned, transport } = await setup('21');
    const events: UploadEvent[] = [];
    const [a, b] = await Promise.all([run('state'), run('state', (e) => events.push(e))]);
    await transport.close();
    expect(a.buildId).toBeTruthy();
    expect(b.buildId).toBe(a.buildId);
    expect(b.uploadId).toBe(a.uploadId);
    expect([a.adopted, b.adopted].filter(Boolean)).toHaveLength(1);
    expect(live().map((u) => (u.attributes.state as { state: string }).state)).toEqual(['COMPLETE']);
    expect(parts()).toBe(planned());
    expect(existsSync(join(dir, 'state', 'upload-1000000001-IOS-3.0.0-21.lock'))).toBe(false);
  }, 60_000);

  it('two machines, the second starting mid-upload: it deletes nothing, waits, and reports the same build', async () => {
    const { sim, run, parts, live, planned, transport } = await setup('22');
    let second: ReturnType<typeof run> | undefined;
    const secondEvents: UploadEvent[] = [];
    const first = run('machine-a', (e) => {
      // Started once the first machine has a part acknowledged, i.e. its upload is visibly in flight.
      if (!second && e.type === 'progress' && e.sent > 0) second = run('machine-b', (x) => secondEvents.push(x));
    });
    const a = await first;
    const b = await second!;
    await transport.close();
    expect(b).toMatchObject({ uploadId: a.uploadId, buildId: a.buildId, adopted: true });
    expect(sim.stats.get('DELETE /v1/buildUploads/{id}')).toBeUndefined();
    expect(live().map((u) => u.id)).toEqual([a.uploadId]);
    expect(parts()).toBe(planned());
    expect(secondEvents).toContainEqual(
      expect.objectContaining({ type: 'step', step: 'other', detail: expect.stringContaining(a.uploadId) }),
    );
  }, 60_000);

  it('two machines starting together: exactly one sends, the other uses its build', async () => {
    const { run, parts, live, planned, transport } = await setup('23');
    const [a, b] = await Promise.all([run('machine-a'), run('machine-b')]);
    await transport.close();
    expect(b.buildId).toBe(a.buildId);
    expect(a.buildId).toBeTruthy();
    expect(live().map((u) => (u.attributes.state as { state: string }).state)).toEqual(['COMPLETE']);
    expect(parts()).toBe(planned());
  }, 60_000);

  it('a finished upload of the build from a different file is not taken as ours: BUILD_NUMBER_USED', async () => {
    const { sim, dir, run, transport } = await setup('24');
    const first = await run('machine-a');
    const other = join(dir, 'other.ipa');
    await buildIpa(other, { version: '3.0.0', build: '24', payloadBytes: 2 * MiB });
    await expect(run('machine-b', undefined, other)).rejects.toMatchObject({
      code: 'BUILD_NUMBER_USED',
      exitCode: 5,
      message: expect.stringContaining(`different file (upload ${first.uploadId})`),
    });
    await transport.close();
    expect(sim.stats.get('POST /v1/buildUploads')).toBe(1);
  }, 60_000);
});
