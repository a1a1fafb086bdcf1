import { describe, expect, it } from 'vitest';
import { assertScriptDone, LOCAL, list, one, scriptedEnv, stepOnce } from '../../../test/release/kit.js';
import type { StepOutputs } from '../deploy-types.js';
import { appStoreStep } from './app-store.js';
import { submitReviewStep } from './review.js';

const out = (over: Partial<StepOutputs> = {}): Partial<StepOutputs> => ({
  preflight: LOCAL,
  remotePreflight: { appId: 'app1', groups: [], own: { buildId: null, uploadId: null } },
  process: { id: 'b1', processingState: 'VALID', usesNonExemptEncryption: false },
  ...over,
});
const version = (state: string, attrs: Record<string, unknown> = {}) => ({
  type: 'appStoreVersions',
  id: 'v1',
  attributes: { versionString: '1.2.0', appVersionState: state, releaseType: 'AFTER_APPROVAL', ...attrs },
});
const full = (state: string, build: string | null, phased: string | null = null) => ({
  data: {
    ...version(state),
    relationships: {
      build: { data: build ? { type: 'builds', id: build } : null },
      appStoreVersionPhasedRelease: { data: phased ? { type: 'appStoreVersionPhasedReleases', id: phased } : null },
    },
  },
  included: phased
    ? [{ type: 'appStoreVersionPhasedReleases', id: phased, attributes: { phasedReleaseState: 'ACTIVE' } }]
    : [],
  links: { self: 'x' },
});

describe('appStore step', () => {
  it('is skipped without --app-store', async () => {
    const { fetch, env } = scriptedEnv([]);
    expect((await stepOnce(appStoreStep, env, out())).skip).toBe('no --app-store given');
    assertScriptDone(fetch);
  });

  it('creates the version, attaches the build and makes the phased release', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/apps/app1/appStoreVersions', body: list([]) },
      {
        expect: 'POST /v1/appStoreVersions',
        status: 201,
        body: one(version('PREPARE_FOR_SUBMISSION', { releaseType: 'MANUAL' })),
      },
      { expect: 'PATCH /v1/appStoreVersions/v1/relationships/build', status: 204 },
      {
        expect: 'POST /v1/appStoreVersionPhasedReleases',
        status: 201,
        body: one({ type: 'appStoreVersionPhasedReleases', id: 'p1', attributes: { phasedReleaseState: 'INACTIVE' } }),
      },
    ]);
    const r = await stepOnce(appStoreStep, env, out(), { appStore: true, phased: true, release: { type: 'MANUAL' } });
    expect(r.plan?.actions.map((a) => a.kind)).toEqual(['createVersion', 'attachBuild', 'createPhasedRelease']);
    expect(r.output).toEqual({
      id: 'v1',
      versionString: '1.2.0',
      releaseType: 'MANUAL',
      appVersionState: 'PREPARE_FOR_SUBMISSION',
      phasedRelease: { id: 'p1', phasedReleaseState: 'INACTIVE' },
    });
    expect(JSON.parse(fetch.calls[1]!.body!).data.attributes).toMatchObject({
      versionString: '1.2.0',
      releaseType: 'MANUAL',
    });
    assertScriptDone(fetch);
  });

  it('reuses an editable version: only the release type and the build are changed', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/apps/app1/appStoreVersions', body: list([version('PREPARE_FOR_SUBMISSION')]) },
      { expect: 'GET /v1/appStoreVersions/v1', body: full('PREPARE_FOR_SUBMISSION', 'old', 'p9') },
      {
        expect: 'PATCH /v1/appStoreVersions/v1',
        body: one(version('PREPARE_FOR_SUBMISSION', { releaseType: 'MANUAL' })),
      },
      { expect: 'PATCH /v1/appStoreVersions/v1/relationships/build', status: 204 },
    ]);
    const r = await stepOnce(appStoreStep, env, out(), { appStore: true, phased: true, release: { type: 'MANUAL' } });
    expect(r.plan?.actions).toEqual([
      { kind: 'setRelease', releaseType: 'MANUAL', date: undefined },
      { kind: 'attachBuild', buildId: 'b1' },
    ]);
    expect(r.output?.phasedRelease).toEqual({ id: 'p9', phasedReleaseState: 'ACTIVE' });
    assertScriptDone(fetch);
  });

  it('a version in review with this build is left alone; with another build it is VERSION_TRAIN_CLOSED', async () => {
    const a = scriptedEnv([
      { expect: 'GET /v1/apps/app1/appStoreVersions', body: list([version('WAITING_FOR_REVIEW')]) },
      { expect: 'GET /v1/appStoreVersions/v1', body: full('WAITING_FOR_REVIEW', 'b1') },
    ]);
    const same = await stepOnce(appStoreStep, a.env, out(), { appStore: true });
    expect(same.plan).toMatchObject({ actions: [], found: 'version 1.2.0 is WAITING_FOR_REVIEW with this build' });
    assertScriptDone(a.fetch);
    const b = scriptedEnv([
      { expect: 'GET /v1/apps/app1/appStoreVersions', body: list([version('WAITING_FOR_REVIEW')]) },
      { expect: 'GET /v1/appStoreVersions/v1', body: full('WAITING_FOR_REVIEW', 'other') },
    ]);
    await expect(stepOnce(appStoreStep, b.env, out(), { appStore: true })).rejects.toMatchObject({
      code: 'VERSION_TRAIN_CLOSED',
    });
    assertScriptDone(b.fetch);
  });
});

const submission = (id: string, state: string) => ({ type: 'reviewSubmissions', id, attributes: { state } });
const item = (versionId: string) => ({
  type: 'reviewSubmissionItems',
  id: `i-${versionId}`,
  relationships: { appStoreVersion: { data: { type: 'appStoreVersions', id: versionId } } },
});
const withVersion = (over: Partial<StepOutputs> = {}) =>
  out({
    appStore: {
      id: 'v1',
      versionString: '1.2.0',
      releaseType: 'AFTER_APPROVAL',
      appVersionState: 'PREPARE_FOR_SUBMISSION',
      phasedRelease: null,
    },
    ...over,
  });
const review = { appStore: true, submitReview: true };

describe('submitReview step', () => {
  it('is irreversible, and skipped without --submit-review', async () => {
    const { fetch, env } = scriptedEnv([]);
    expect(submitReviewStep.irreversible).toBe(true);
    expect((await stepOnce(submitReviewStep, env, withVersion(), { appStore: true })).skip).toBe(
      'no --submit-review given',
    );
    assertScriptDone(fetch);
  });

  it('creates a submission, adds the version and submits it', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/reviewSubmissions', body: list([]) },
      { expect: 'POST /v1/reviewSubmissions', status: 201, body: one(submission('s1', 'READY_FOR_REVIEW')) },
      { expect: 'GET /v1/reviewSubmissions/s1/items', body: list([]) },
      { expect: 'POST /v1/reviewSubmissionItems', status: 201, body: one(item('v1')) },
      { expect: 'PATCH /v1/reviewSubmissions/s1', body: one(submission('s1', 'WAITING_FOR_REVIEW')) },
    ]);
    const r = await stepOnce(submitReviewStep, env, withVersion(), review);
    expect(r.plan?.actions.map((a) => a.kind)).toEqual([
      'createReviewSubmission',
      'addVersionToSubmission',
      'submitForReview',
    ]);
    expect(r.output).toEqual({ id: 's1', state: 'WAITING_FOR_REVIEW' });
    assertScriptDone(fetch);
  });

  it('reports a submission of this version already in review', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/reviewSubmissions', body: list([submission('s1', 'IN_REVIEW')]) },
      { expect: 'GET /v1/reviewSubmissions/s1/items', body: list([item('v1')]) },
    ]);
    const r = await stepOnce(submitReviewStep, env, withVersion(), review);
    expect(r.plan).toMatchObject({ actions: [], found: 'already submitted for review (IN_REVIEW)' });
    assertScriptDone(fetch);
  });

  it('REVIEW_IN_PROGRESS: another version’s submission in review stops it before any write', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/reviewSubmissions', body: list([submission('s0', 'WAITING_FOR_REVIEW')]) },
      { expect: 'GET /v1/reviewSubmissions/s0/items', body: list([item('v0')]) },
    ]);
    const err = await stepOnce(submitReviewStep, env, withVersion(), review).catch((e) => e);
    expect(err).toMatchObject({ code: 'REVIEW_IN_PROGRESS', exitCode: 5 });
    expect(err.message).toMatch(/another review submission \(s0\) is WAITING_FOR_REVIEW/);
    expect(fetch.calls.every((c) => c.method === 'GET')).toBe(true);
    assertScriptDone(fetch);
  });

  it('reuses an open submission that holds the version already: only the submit is sent', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/reviewSubmissions', body: list([submission('s2', 'READY_FOR_REVIEW')]) },
      { expect: 'GET /v1/reviewSubmissions/s2/items', body: list([item('v1')]) },
      { expect: 'GET /v1/reviewSubmissions/s2/items', body: list([item('v1')]) },
      { expect: 'PATCH /v1/reviewSubmissions/s2', body: one(submission('s2', 'WAITING_FOR_REVIEW')) },
    ]);
    const r = await stepOnce(submitReviewStep, env, withVersion(), review);
    expect(r.plan?.actions).toEqual([
      { kind: 'reuseReviewSubmission', id: 's2' },
      { kind: 'submitForReview', version: '1.2.0' },
    ]);
    expect(r.output).toEqual({ id: 's2', state: 'WAITING_FOR_REVIEW' });
    assertScriptDone(fetch);
  });
});
