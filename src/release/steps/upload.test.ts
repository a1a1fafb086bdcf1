import { describe, expect, it } from 'vitest';
import { assertScriptDone, LOCAL, one, scriptedEnv, stepOnce } from '../../../test/release/kit.js';
import type { StepOutputs } from '../deploy-types.js';
import { processStep, uploadStep } from './upload.js';

const build = (state: string) => ({
  type: 'builds',
  id: 'b1',
  attributes: { version: '7', processingState: state, usesNonExemptEncryption: null },
});
const upload = (state: string, buildId?: string) => ({
  type: 'buildUploads',
  id: 'u1',
  attributes: {
    cfBundleVersion: '7',
    state: { state, errors: state === 'FAILED' ? [{ code: '90999', description: 'bad' }] : [] },
  },
  relationships: { build: { data: buildId ? { type: 'builds', id: buildId } : null } },
});
const out = (own: StepOutputs['remotePreflight']['own']): Partial<StepOutputs> => ({
  preflight: LOCAL,
  remotePreflight: { appId: 'app1', groups: [], own },
});

describe('upload step', () => {
  it('plans the upload as data in a dry run, without a request', async () => {
    const { fetch, env } = scriptedEnv([]);
    const r = await stepOnce(uploadStep, env, out({ buildId: null, uploadId: null }), { dryRun: true });
    expect(r.plan).toMatchObject({
      actions: [{ kind: 'upload', file: LOCAL.file, bytes: LOCAL.bytes, version: '1.2.0', buildNumber: '7' }],
      output: { build: null, upload: null },
    });
    assertScriptDone(fetch);
  });

  it('uploads nothing when this binary’s build is there already', async () => {
    const { fetch, env } = scriptedEnv([{ expect: 'GET /v1/builds/b1', body: one(build('VALID')) }]);
    const r = await stepOnce(uploadStep, env, out({ buildId: 'b1', uploadId: 'u1' }));
    expect(r.plan).toMatchObject({
      actions: [],
      output: { build: { id: 'b1', processingState: 'VALID' }, upload: null },
      found: 'build 1.2.0 (7) is already on App Store Connect (b1)',
    });
    assertScriptDone(fetch);
  });

  it('waits for our own upload still processing instead of uploading again', async () => {
    const { fetch, env, clock } = scriptedEnv([
      { expect: 'GET /v1/buildUploads/u1', body: one(upload('PROCESSING')) },
      { expect: 'GET /v1/buildUploads/u1', body: one(upload('COMPLETE', 'b1')) },
    ]);
    const r = await stepOnce(uploadStep, env, out({ buildId: null, uploadId: 'u1' }));
    expect(r.plan?.actions).toEqual([{ kind: 'waitUpload', uploadId: 'u1' }]);
    expect(r.output?.build).toEqual({ id: 'b1', processingState: 'PROCESSING', usesNonExemptEncryption: null });
    expect(clock.sleeps).toEqual([1000]);
    assertScriptDone(fetch);
  });

  it('UPLOAD_REJECTED when that upload fails at Apple', async () => {
    const { fetch, env } = scriptedEnv([{ expect: 'GET /v1/buildUploads/u1', body: one(upload('FAILED')) }]);
    const err = await stepOnce(uploadStep, env, out({ buildId: null, uploadId: 'u1' })).catch((e) => e);
    expect(err).toMatchObject({ code: 'UPLOAD_REJECTED', exitCode: 7 });
    assertScriptDone(fetch);
  });

  it('DEADLINE_EXCEEDED when it is still processing at the deadline (never hangs; fake clock)', async () => {
    const polls = Array.from({ length: 6 }, () => ({
      expect: 'GET /v1/buildUploads/u1',
      body: one(upload('PROCESSING')),
    }));
    const { fetch, env, clock } = scriptedEnv(polls);
    env.deadline = clock.now() + 10_000;
    const err = await stepOnce(uploadStep, env, out({ buildId: null, uploadId: 'u1' })).catch((e) => e);
    expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED', exitCode: 8 });
    expect(clock.now()).toBe(env.deadline);
    assertScriptDone(fetch);
  });
});

describe('process step', () => {
  const uploaded = (b: StepOutputs['process']): Partial<StepOutputs> => ({ upload: { build: b, upload: null } });
  const ref = { id: 'b1', processingState: 'PROCESSING', usesNonExemptEncryption: null };

  it('a VALID build needs nothing', async () => {
    const { fetch, env } = scriptedEnv([{ expect: 'GET /v1/builds/b1', body: one(build('VALID')) }]);
    const r = await stepOnce(processStep, env, uploaded(ref));
    expect(r.plan).toMatchObject({ actions: [], output: { id: 'b1', processingState: 'VALID' } });
    assertScriptDone(fetch);
  });

  it('waits with backoff until VALID', async () => {
    const { fetch, env, clock } = scriptedEnv([
      { expect: 'GET /v1/builds/b1', body: one(build('PROCESSING')) },
      { expect: 'GET /v1/builds/b1', body: one(build('PROCESSING')) },
      { expect: 'GET /v1/builds/b1', body: one(build('VALID')) },
    ]);
    const r = await stepOnce(processStep, env, uploaded(ref));
    expect(r.output).toMatchObject({ id: 'b1', processingState: 'VALID' });
    expect(clock.sleeps).toEqual([1000]);
    assertScriptDone(fetch);
  });

  it('UPLOAD_REJECTED for a build Apple processed as INVALID, before any wait', async () => {
    const { fetch, env } = scriptedEnv([{ expect: 'GET /v1/builds/b1', body: one(build('INVALID')) }]);
    await expect(stepOnce(processStep, env, uploaded(ref))).rejects.toMatchObject({
      code: 'UPLOAD_REJECTED',
      exitCode: 7,
    });
    assertScriptDone(fetch);
  });

  it('DEADLINE_EXCEEDED when the build is still processing at the deadline (fake clock)', async () => {
    const polls = Array.from({ length: 6 }, () => ({ expect: 'GET /v1/builds/b1', body: one(build('PROCESSING')) }));
    const { fetch, env, clock } = scriptedEnv(polls);
    env.deadline = clock.now() + 5_000;
    await expect(stepOnce(processStep, env, uploaded(ref))).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      exitCode: 8,
    });
    assertScriptDone(fetch);
  });

  it('in a dry run before the upload, plans the wait without a request', async () => {
    const { fetch, env } = scriptedEnv([]);
    const r = await stepOnce(processStep, env, uploaded(null), { dryRun: true });
    expect(r.plan?.actions).toEqual([{ kind: 'waitProcessing', buildId: null }]);
    assertScriptDone(fetch);
  });
});
