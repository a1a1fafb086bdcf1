import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp.js';
import { assertScriptDone, LOCAL, list, scriptedEnv, stepOnce } from '../../../test/release/kit.js';
import type { StepOutputs } from '../deploy-types.js';
import { uploadStateKey } from '../state-keys.js';
import { remotePreflightStep, resolveAppStep } from './remote.js';

const APP = { id: 'app1', bundleId: 'com.example.app' };
const PRIOR_UPLOAD = {
  build: { id: 'b7', processingState: 'VALID', usesNonExemptEncryption: false },
  upload: null,
};
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const sourceFile = (text: string) => {
  const p = join(tempDir('ascend-remote-'), 'app.ipa');
  writeFileSync(p, text);
  return p;
};
const out = (over: Partial<StepOutputs> = {}): Partial<StepOutputs> => ({ preflight: LOCAL, resolveApp: APP, ...over });
const group = (id: string, name: string) => ({ type: 'betaGroups', id, attributes: { name, isInternalGroup: true } });
const build = (id: string, version: string) => ({
  type: 'builds',
  id,
  attributes: { version, processingState: 'VALID' },
});
const asv = (versionString: string, appVersionState: string) => ({
  type: 'appStoreVersions',
  id: `v-${versionString}`,
  attributes: { versionString, appVersionState },
});
const forbidden = {
  status: 403,
  body: { errors: [{ status: '403', code: 'FORBIDDEN_ERROR', title: 'no', detail: 'not allowed' }] },
};

/** The reads of a full check, in the order they are sent. */
function reads(o: {
  role?: object;
  groups?: unknown[];
  builds?: unknown[];
  versions?: unknown[];
  reviews?: unknown[];
}) {
  return [
    { expect: 'GET /v1/bundleIds', ...(o.role ?? { body: list([]) }) },
    ...(o.groups ? [{ expect: 'GET /v1/betaGroups', body: list(o.groups) }] : []),
    { expect: 'GET /v1/builds', body: list(o.builds ?? []) },
    { expect: 'GET /v1/apps/app1/buildUploads', body: list([]) },
    { expect: 'GET /v1/apps/app1/appStoreVersions', body: list(o.versions ?? []) },
    ...(o.reviews ? [{ expect: 'GET /v1/reviewSubmissions', body: list(o.reviews) }] : []),
  ];
}

describe('resolveApp step', () => {
  it('finds the app by exact bundle ID, or yields null for remotePreflight to report', async () => {
    const a = scriptedEnv([
      {
        expect: 'GET /v1/apps',
        body: list([{ type: 'apps', id: 'app1', attributes: { bundleId: 'com.example.app' } }]),
      },
    ]);
    expect((await stepOnce(resolveAppStep, a.env, out())).plan?.output).toEqual(APP);
    assertScriptDone(a.fetch);
    const b = scriptedEnv([
      {
        expect: 'GET /v1/apps',
        body: list([{ type: 'apps', id: 'x', attributes: { bundleId: 'com.example.app.other' } }]),
      },
    ]);
    expect((await stepOnce(resolveAppStep, b.env, out())).plan?.output).toBeNull();
    assertScriptDone(b.fetch);
  });
});

describe('remotePreflight step', () => {
  it('passes with the groups resolved when nothing stands in the way', async () => {
    const { fetch, env } = scriptedEnv(reads({ groups: [group('g1', 'QA')] }));
    const r = await stepOnce(remotePreflightStep, env, out(), { groups: ['QA'] });
    expect(r.plan?.output).toEqual({
      appId: 'app1',
      groups: [{ id: 'g1', name: 'QA', isInternalGroup: true }],
      own: { buildId: null, uploadId: null },
    });
    assertScriptDone(fetch);
  });

  it('lists every blocker at once, each with its fix: role, group, build number, and an open App Store version', async () => {
    const { fetch, env } = scriptedEnv(
      reads({
        role: forbidden,
        groups: [group('g1', 'QA')],
        builds: [build('b7', '7')],
        versions: [asv('9.9.9', 'PREPARE_FOR_SUBMISSION')],
      }),
    );
    const err = await stepOnce(remotePreflightStep, env, out(), { groups: ['Beta'], appStore: true }).catch((e) => e);
    expect(err.code).toBe('ASC_FORBIDDEN_ROLE');
    expect(err.details.findings.map((f: { code: string }) => f.code)).toEqual([
      'ASC_FORBIDDEN_ROLE',
      'GROUP_NOT_FOUND',
      'BUILD_NUMBER_USED',
      'APP_STORE_VERSION_OPEN',
    ]);
    expect(err.message).toMatch(/^4 problems stop this deploy: \(1\) this key looks like a Developer key/);
    expect(err.message).toMatch(
      /\(4\) App Store version 9\.9\.9 is PREPARE_FOR_SUBMISSION.*version 1\.2\.0 cannot be created \[APP_STORE_VERSION_OPEN\]: Deploy this build as 9\.9\.9.*Remove Version/,
    );
    expect(err.message).toMatch(/\[BUILD_NUMBER_USED\]: Raise CFBundleVersion/);
    assertScriptDone(fetch);
  });

  it('a missing app record is listed together with the local problems (exit of the first)', async () => {
    const { fetch, env } = scriptedEnv([]);
    const local = {
      ...LOCAL,
      blockers: [{ code: 'ENCRYPTION_UNANSWERED', severity: 'error' as const, message: 'no answer', fix: 'answer it' }],
    };
    const err = await stepOnce(remotePreflightStep, env, out({ preflight: local, resolveApp: null })).catch((e) => e);
    expect(err).toMatchObject({ code: 'ENCRYPTION_UNANSWERED', exitCode: 6 });
    expect(err.details.findings.map((f: { code: string }) => f.code)).toEqual([
      'ENCRYPTION_UNANSWERED',
      'APP_RECORD_MISSING',
    ]);
    expect(err.message).toMatch(/no app record with bundle ID com\.example\.app .*\[APP_NOT_FOUND\]/);
    assertScriptDone(fetch);
  });

  it('a review submission in progress for another version blocks --submit-review before the upload', async () => {
    const { fetch, env } = scriptedEnv([
      ...reads({
        versions: [asv('1.1.0', 'READY_FOR_DISTRIBUTION')],
        reviews: [{ type: 'reviewSubmissions', id: 's0', attributes: { state: 'WAITING_FOR_REVIEW' } }],
      }),
      { expect: 'GET /v1/reviewSubmissions/s0/items', body: list([]) },
    ]);
    const err = await stepOnce(remotePreflightStep, env, out(), { appStore: true, submitReview: true }).catch((e) => e);
    expect(err).toMatchObject({ code: 'REVIEW_IN_PROGRESS', exitCode: 5 });
    expect(err.message).toMatch(/review submission s0 is WAITING_FOR_REVIEW/);
    assertScriptDone(fetch);
  });

  it('the build number is ours when the previous run of this deploy made that build from this same file', async () => {
    const { fetch, env } = scriptedEnv(
      reads({ builds: [build('b7', '7')], versions: [asv('1.2.0', 'PENDING_DEVELOPER_RELEASE')] }),
    );
    const local = { ...LOCAL, file: sourceFile('the binary of build 7'), bytes: 21 };
    const prior: Partial<StepOutputs> = {
      upload: { ...PRIOR_UPLOAD, source: { bytes: 21, md5: md5('the binary of build 7') } },
    };
    const r = await stepOnce(remotePreflightStep, env, out({ preflight: local }), {}, prior);
    expect(r.plan?.output.own).toEqual({ buildId: 'b7', uploadId: null, md5: md5('the binary of build 7') });
    assertScriptDone(fetch);
  });

  it('a different file at the same path with the same build number is not the previous build: BUILD_NUMBER_USED', async () => {
    // Same size, different bytes: only the MD5 tells them apart. Then a saved run without a source at all.
    const local = { ...LOCAL, file: sourceFile('a rebuilt binary of 7'), bytes: 21 };
    const sources = [{ bytes: 21, md5: md5('the binary of build 7') }, undefined];
    for (const source of sources) {
      const { fetch, env } = scriptedEnv(reads({ builds: [build('b7', '7')] }));
      const prior: Partial<StepOutputs> = { upload: { ...PRIOR_UPLOAD, ...(source ? { source } : {}) } };
      const err = await stepOnce(remotePreflightStep, env, out({ preflight: local }), {}, prior).catch((e) => e);
      expect(err).toMatchObject({ code: 'BUILD_NUMBER_USED', exitCode: 5 });
      assertScriptDone(fetch);
    }
  });

  it('an upload of this number that we saved state for is resumed, not reported as in flight', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/bundleIds', body: list([]) },
      { expect: 'GET /v1/builds', body: list([]) },
      {
        expect: 'GET /v1/apps/app1/buildUploads',
        body: list([
          { type: 'buildUploads', id: 'u1', attributes: { cfBundleVersion: '7', state: { state: 'PROCESSING' } } },
        ]),
      },
      { expect: 'GET /v1/apps/app1/appStoreVersions', body: list([]) },
    ]);
    await env.state.put(uploadStateKey({ appId: 'app1', platform: 'IOS', version: '1.2.0', buildNumber: '7' }), {
      uploadId: 'u1',
    });
    const r = await stepOnce(remotePreflightStep, env, out());
    expect(r.plan?.output.own).toEqual({ buildId: null, uploadId: null, resume: true });
    assertScriptDone(fetch);
  });
});
