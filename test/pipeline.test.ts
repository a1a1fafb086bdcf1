import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { systemClock } from '../src/core/clock.js';
import { MemoryStateStore } from '../src/core/state.js';
import { type DeployDeps, deploy } from '../src/release/deploy.js';
import type { DeployOptions } from '../src/release/deploy-types.js';
import type { RunEvent, StepName } from '../src/release/pipeline.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { httpTransport } from '../src/upload/engine.js';
import { clientFor, quickSleep } from './helpers/deploy.js';

/**
 * The runner against the simulator: dry run, a crash after every step, approval before irreversible steps,
 * cancellation. Writes are counted by the simulator itself (every route it answered).
 */
const dir = mkdtempSync(join(tmpdir(), 'ascend-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const writes = (s: Simulator) =>
  Object.fromEntries([...s.stats.entries()].filter(([k]) => !k.startsWith('GET') && k !== 'PUT /__upload'));

async function setup(version: string) {
  sim = await startSimulator({ processingSeconds: 0.2, reviewSeconds: 600, partSizeBytes: 256 * 1024 });
  const key = sim.createKey({ role: 'APP_MANAGER' });
  const file = join(dir, `app-${version}.ipa`);
  await buildIpa(file, { version, build: '1', payloadBytes: 600 * 1024 });
  const opts: DeployOptions = {
    file,
    groups: ['Internal Testers', 'External Testers'],
    whatsNew: 'Please test',
    locale: 'en-US',
    betaReview: false,
    appStore: true,
    submitReview: true,
    release: { type: 'MANUAL' },
    phased: true,
    dryRun: false,
    concurrency: 2,
    deadline: Date.now() + 120_000,
    extraTrustedRoots: [SAMPLE_ROOT_SHA256],
  };
  const state = new MemoryStateStore();
  const run = async (over: Partial<DeployOptions> = {}, extra: Partial<DeployDeps> = {}) => {
    const transport = await httpTransport(2);
    try {
      const { client } = clientFor(sim!, key);
      return await deploy(
        { ...opts, ...over },
        {
          client,
          state,
          clock: systemClock,
          sleep: quickSleep,
          random: Math.random,
          transport,
          id: `test-${version}`,
          ...extra,
        },
      );
    } finally {
      await transport.close();
    }
  };
  return { sim, state, run };
}

const WRITE_STEPS: StepName[] = [
  'upload',
  'process',
  'compliance',
  'whatsNew',
  'groups',
  'betaReview',
  'appStore',
  'submitReview',
];

describe('the pipeline runner', () => {
  it('a dry run reads and plans every step, and writes nothing: not at Apple, not in the state store', async () => {
    const { sim, state, run } = await setup('5.0.0');
    const events: RunEvent[] = [];
    const r = await run({ dryRun: true }, { onEvent: (e) => events.push(e) });
    expect(r.steps.map((s) => s.status)).toEqual(Array(8).fill('planned'));
    // Every step is announced when it starts and reported, with its duration, when it ends.
    const started = events.flatMap((e) => (e.type === 'step-started' ? [e.step] : []));
    const ended = events.flatMap((e) => (e.type === 'step' ? [`${e.step}:${e.status}`] : []));
    expect(started).toEqual(['inspect', 'preflight', 'resolveApp', 'remotePreflight', ...WRITE_STEPS]);
    expect(ended.slice(0, 4)).toEqual([
      'inspect:checked',
      'preflight:checked',
      'resolveApp:checked',
      'remotePreflight:checked',
    ]);
    expect(ended.slice(4)).toEqual(WRITE_STEPS.map((s) => `${s}:planned`));
    for (const e of events) if (e.type === 'step') expect(e.durationMs).toBe(e.endedAt - e.startedAt);
    expect(r.steps.find((s) => s.step === 'appStore')?.detail).toBe(
      'would create App Store version 5.0.0 (MANUAL), attach the build, create a phased release',
    );
    expect(writes(sim)).toEqual({});
    expect(state.data.size).toBe(0);
  });

  it('killed after each step in turn, every next run continues where the last stopped and no write is ever sent twice', async () => {
    const { sim, state, run } = await setup('5.1.0');
    const crash = new Error('killed');
    for (const [i, stop] of WRITE_STEPS.entries()) {
      const onEvent = (e: RunEvent) => {
        if (e.type === 'step' && e.step === stop) throw crash;
      };
      await expect(run({}, { onEvent })).rejects.toBe(crash);
      // Everything before the step that was killed had been saved and is found done.
      const seen: string[] = [];
      const check = await run(
        { dryRun: true },
        { onEvent: (e) => e.type === 'step' && seen.push(`${e.step}:${e.status}`) },
      );
      const before = check.steps.slice(0, i + 1);
      expect(
        before.every((s) => s.status === 'already'),
        JSON.stringify(check.steps),
      ).toBe(true);
      expect(seen.length).toBeGreaterThan(i);
    }
    const final = await run();
    expect(final.changed).toBe(false);
    expect(final.reviewSubmission?.state).toBe('WAITING_FOR_REVIEW');
    // Each write once: the upload's three, "What to Test", groups, beta review, version (+ build, phased
    // release), and the review submission's three. Export compliance needs no write: Info.plist answers it,
    // and Apple settles it from the binary.
    expect(writes(sim)).toEqual({
      'POST /v1/buildUploads': 1,
      'POST /v1/buildUploadFiles': 1,
      'PATCH /v1/buildUploadFiles/{id}': 1,
      'POST /v1/betaBuildLocalizations': 1,
      'POST /v1/builds/{id}/relationships/betaGroups': 1,
      'POST /v1/betaAppReviewSubmissions': 1,
      'POST /v1/appStoreVersions': 1,
      'PATCH /v1/appStoreVersions/{id}/relationships/build': 1,
      'POST /v1/appStoreVersionPhasedReleases': 1,
      'POST /v1/reviewSubmissions': 1,
      'POST /v1/reviewSubmissionItems': 1,
      'PATCH /v1/reviewSubmissions/{id}': 1,
    });
    const again = await run();
    expect(again.changed).toBe(false);
    expect(again.changed).toBe(false);
    expect(again.steps.find((s) => s.step === 'upload')?.status).toBe('already');
    // What stays saved holds no secret: no pre-signed part URL, no token, no key.
    const saved = [...state.data.values()].join('\n');
    expect(saved).toContain('"submitReview"');
    expect(saved).not.toMatch(/__upload|signature=|eyJ|PRIVATE KEY/);
  }, 60_000);

  it('holds before an irreversible step when approval says wait, and goes on once it says go', async () => {
    const { sim, run } = await setup('5.2.0');
    const asked: StepName[] = [];
    const held = await run(
      { appStore: false, submitReview: false },
      {
        beforeApply: async (step) => {
          asked.push(step);
          return 'wait';
        },
      },
    );
    expect(held.awaiting).toBe('betaReview');
    expect(held.steps.at(-1)).toMatchObject({ step: 'betaReview', status: 'waiting' });
    expect(sim.store.list('betaAppReviewSubmissions')).toHaveLength(0);
    const go = await run({ appStore: false, submitReview: false }, { beforeApply: async () => 'go' });
    expect(go.awaiting).toBeNull();
    expect(go.steps.find((s) => s.step === 'betaReview')?.status).toBe('done');
    expect(asked).toEqual(['betaReview']);
    expect(sim.store.list('betaAppReviewSubmissions')).toHaveLength(1);
  });

  it('a cancel during the processing wait stops there; nothing after it runs', async () => {
    const { sim, run } = await setup('5.3.0');
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const started: string[] = [];
    const onEvent = (e: RunEvent) => {
      if (e.type === 'step-started') started.push(e.step);
      if (e.type === 'step-started' && e.step === 'process') controller.abort(reason);
    };
    await expect(run({}, { onEvent, signal: controller.signal })).rejects.toBe(reason);
    expect(started.at(-1)).toBe('process');
    expect(Object.keys(writes(sim)).filter((k) => !k.includes('buildUpload'))).toEqual([]);
  });

  it('a different binary rebuilt at the same path with the same build number is refused, not reported as deployed', async () => {
    const { sim, run } = await setup('5.4.0');
    const testflight = { appStore: false, submitReview: false, groups: ['Internal Testers'], phased: false };
    const first = await run(testflight);
    expect(first.build?.id).toBeTruthy();
    const uploaded = writes(sim);
    const builds = sim.store.list('builds').length;
    expect(uploaded['POST /v1/buildUploads']).toBe(1);
    // The same file again: every step finds its work done, nothing is sent.
    const again = await run(testflight);
    expect(again.changed).toBe(false);
    expect(again.steps.find((s) => s.step === 'upload')?.status).toBe('already');
    // Same path, same version and build number, different bytes.
    await buildIpa(join(dir, 'app-5.4.0.ipa'), { version: '5.4.0', build: '1', payloadBytes: 500 * 1024 });
    const err = await run(testflight).catch((e) => e);
    expect(err).toMatchObject({ code: 'BUILD_NUMBER_USED', exitCode: 5 });
    expect(writes(sim)).toEqual(uploaded);
    expect(sim.store.list('builds').length).toBe(builds);
  }, 60_000);
});
