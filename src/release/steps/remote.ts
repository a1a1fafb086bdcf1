import type { AscClient } from '../../asc/http/client.js';
import { AscApiError } from '../../asc/http/errors.js';
import {
  type AppStoreVersion,
  CLOSED_VERSION_STATES,
  listAppStoreVersions,
} from '../../asc/resources/app-store-versions.js';
import { findAppByBundleId } from '../../asc/resources/apps.js';
import { type BetaGroup, listBetaGroups } from '../../asc/resources/beta-groups.js';
import { type BuildUpload, listBuildUploads } from '../../asc/resources/build-uploads.js';
import { type Build, listBuilds } from '../../asc/resources/builds.js';
import { listReviewSubmissions, type ReviewSubmission } from '../../asc/resources/review-submissions.js';
import { compareDotted } from '../../core/versions.js';
import { type RemoteState, remotePreflight } from '../../ipa/preflight.js';
import type { Finding } from '../../ipa/types.js';
import type { LocalFacts, SourceFile } from '../deploy-types.js';
import { defineStep, type StepEnv } from '../pipeline.js';
import { uploadStateKey } from '../state-keys.js';
import { blockedError } from './blockers.js';
import { need } from './local.js';
import { appStoreBlockers, reviewBlockers } from './remote-app-store.js';
import { findOwnBuild, lazyMd5, type OwnBuild, sameSource } from './remote-own-build.js';

/** Finds the app record by bundle ID; a missing one is reported with the other blockers. */
export const resolveAppStep = defineStep({
  name: 'resolveApp',
  check: true,
  input: ({ out }) => ({ bundleId: need(out.preflight, 'preflight').bundleId }),
  read: async (input: { bundleId: string }, env) => (await findAppByBundleId(env.client, input.bundleId)) ?? null,
  plan: (input, app: { id: string } | null) => ({
    actions: [],
    output: app ? { id: app.id, bundleId: input.bundleId } : null,
    found: app ? `app ${input.bundleId} is ${app.id}` : `no app record for ${input.bundleId}`,
  }),
  apply: () => Promise.reject(new Error('resolveApp has nothing to apply')),
});

export interface RemoteInput {
  local: LocalFacts;
  app: { id: string; bundleId: string } | null;
  groups: string[];
  /** What the deploy will do beyond uploading (the key's role must allow it). */
  needs: string[];
  individualKey: boolean;
  appStore: boolean;
  submitReview: boolean;
  /**
   * The build the previous run of this deploy made and the file it came from, so its number is recognised
   * as ours only while the file is the same one.
   */
  previous: { buildId: string; source?: SourceFile } | null;
}

interface Remote {
  app: { id: string; bundleId: string } | null;
  blockers: Finding[];
  groups: BetaGroup[];
  own: OwnBuild;
}

/**
 * Everything that would stop the deploy half-way, checked before anything is created: the app record, the
 * key's role, the beta groups, the build number and version train, and for --app-store another version open
 * on the platform or a review in progress. Every blocker is listed at once, in a dry run too.
 */
export const remotePreflightStep = defineStep({
  name: 'remotePreflight',
  check: true,
  input: ({ opts, out, saved }): RemoteInput => {
    const local = need(out.preflight, 'preflight');
    return {
      local,
      app: need(out.resolveApp, 'resolveApp'),
      groups: opts.groups,
      needs: [
        local.plistAnswers || opts.uploadOnly ? '' : 'answer export compliance',
        opts.whatsNew ? 'set "What to Test"' : '',
        opts.groups.length ? 'add builds to beta groups' : '',
        opts.appStore ? 'prepare the App Store version' : '',
      ].filter(Boolean),
      individualKey: Boolean(opts.individualKey),
      appStore: opts.appStore,
      submitReview: opts.appStore && opts.submitReview,
      previous: saved.upload?.build ? { buildId: saved.upload.build.id, source: saved.upload.source } : null,
    };
  },
  read: readRemote,
  plan: (input, remote: Remote) => {
    const blockers = [...input.local.blockers, ...remote.blockers];
    if (blockers.length) throw blockedError(blockers);
    const groups = input.groups.map((name) => {
      const g = remote.groups.find((x) => x.attributes?.name === name)!;
      return { id: g.id, name, isInternalGroup: Boolean(g.attributes?.isInternalGroup) };
    });
    return {
      actions: [],
      output: { appId: remote.app!.id, groups, own: remote.own },
      found: 'nothing stands in the way',
    };
  },
  apply: () => Promise.reject(new Error('remotePreflight has nothing to apply')),
});

async function readRemote(input: RemoteInput, env: StepEnv): Promise<Remote> {
  const { client } = env;
  const none: OwnBuild = { buildId: null, uploadId: null };
  if (!input.app) {
    const f = remotePreflight(facts(input), emptyRemote());
    return { app: null, blockers: f, groups: [], own: none };
  }
  const app = input.app;
  const { version, platform } = input.local;
  const [role, groups, builds, uploads, versions, reviews] = await Promise.all([
    roleBlocker(client, input),
    input.groups.length ? listBetaGroups(client, { appId: app.id }) : Promise.resolve([]),
    listBuilds(client, { appId: app.id, version, platform }).then((r) => r.builds),
    listBuildUploads(client, app.id, { version, platform }),
    listAppStoreVersions(client, app.id, { platform }),
    input.submitReview ? listReviewSubmissions(client, app.id, platform) : Promise.resolve([] as ReviewSubmission[]),
  ]);
  const own = await ownBuild(input, env, builds, uploads);
  // This very binary is there already (a re-run, or a resume): nothing will be uploaded, so neither its
  // build number nor its version train can stand in the way.
  const uploading = !(own.buildId || own.uploadId || own.resume);
  const blockers = [
    ...role,
    ...groupBlockers(input, groups),
    ...(uploading ? remotePreflight(facts(input), remoteState(app, builds, uploads, versions)) : []),
    ...(input.appStore ? appStoreBlockers(input.local.version, versions) : []),
  ];
  if (input.submitReview && !blockers.some((b) => b.code === 'APP_STORE_VERSION_OPEN'))
    blockers.push(...(await reviewBlockers(client, input.local.version, versions, reviews)));
  return { app, blockers, groups, own };
}

/**
 * Whether the build number in use is ours: the previous run's build made from this same file, our own
 * resumable upload, or an upload with this file's MD5.
 */
async function ownBuild(input: RemoteInput, env: StepEnv, builds: Build[], uploads: BuildUpload[]): Promise<OwnBuild> {
  const { local, previous } = input;
  const same = (n?: string | null) => compareDotted(n ?? '', local.buildNumber) === 0;
  const taken = builds.find((b) => same(b.attributes?.version));
  const md5Of = lazyMd5(local.file, env.openSource);
  if (taken && taken.id === previous?.buildId && (await sameSource(previous.source, local.bytes, md5Of)))
    return { buildId: taken.id, uploadId: null, md5: await md5Of() };
  // Only uploads past their commit hold the number; one still AWAITING_UPLOAD is resumed or cleaned up.
  const live = uploads.filter(
    (u) =>
      same(u.attributes?.cfBundleVersion) && ['PROCESSING', 'COMPLETE'].includes(String(u.attributes?.state?.state)),
  );
  if (!taken && !live.length) return { buildId: null, uploadId: null };
  const key = uploadStateKey({ appId: input.app!.id, ...local });
  // Our own interrupted upload: upload-build.ts resumes it from its saved state.
  if (!taken && (await env.state.get(key))) return { buildId: null, uploadId: null, resume: true };
  return findOwnBuild(env.client, md5Of, live);
}

function remoteState(
  app: { id: string; bundleId: string },
  builds: Build[],
  uploads: BuildUpload[],
  versions: AppStoreVersion[],
): RemoteState {
  const live = versions
    .filter((v) => v.attributes?.appVersionState === 'READY_FOR_DISTRIBUTION')
    .map((v) => v.attributes?.versionString ?? '');
  return {
    app,
    builds: builds.map((b) => b.attributes?.version ?? '').filter(Boolean),
    // AWAITING_UPLOAD uploads hold no number yet: they are resumed or cleaned up, never a conflict.
    uploadsInFlight: uploads
      .filter((u) => u.attributes?.state?.state === 'PROCESSING' || u.attributes?.state?.state === 'COMPLETE')
      .map((u) => u.attributes?.cfBundleVersion ?? ''),
    closedVersions: versions
      .filter((v) => CLOSED_VERSION_STATES.has(String(v.attributes?.appVersionState)))
      .map((v) => v.attributes?.versionString ?? ''),
    liveVersion: live.sort(compareDotted).at(-1) ?? null,
  };
}

const emptyRemote = (): RemoteState => ({
  app: null,
  builds: [],
  uploadsInFlight: [],
  closedVersions: [],
  liveVersion: null,
});

/** remotePreflight() works on inspector facts; only the app's identity matters to it. */
function facts(input: RemoteInput) {
  const l = input.local;
  return {
    file: l.file,
    size: l.bytes,
    kind: 'ipa' as const,
    platform: l.platform,
    wrapper: null,
    app: { bundleId: l.bundleId, shortVersion: l.version, buildVersion: l.buildNumber } as never,
    extensions: [],
    watchApps: [],
    entries: 0,
  };
}

function groupBlockers(input: RemoteInput, groups: BetaGroup[]): Finding[] {
  const unknown = input.groups.filter((n) => !groups.some((g) => g.attributes?.name === n));
  if (!unknown.length) return [];
  const names = groups.map((g) => `"${g.attributes?.name}"`).join(', ') || 'none';
  return [
    {
      code: 'GROUP_NOT_FOUND',
      severity: 'error',
      message: `no beta group named ${unknown.map((n) => `"${n}"`).join(', ')} in ${input.local.bundleId}; its groups are: ${names}`,
      fix: 'Use one of the beta groups listed, or create the group in App Store Connect → TestFlight.',
    },
  ];
}

/**
 * Whether the key may do more than upload. Apple exposes no key's role; Developer keys may upload but are
 * refused TestFlight metadata and App Store changes (fastlane/docs#1050). A read that App Manager and Admin
 * team keys may do and Developer keys may not (`GET /v1/bundleIds`) tells them apart without changing
 * anything. Individual keys are never allowed that read whatever their role, so they are not judged by it.
 */
async function roleBlocker(client: AscClient, input: RemoteInput): Promise<Finding[]> {
  if (input.individualKey || input.needs.length === 0) return [];
  try {
    await client.request({ method: 'GET', path: '/v1/bundleIds', query: { limit: 1 } });
    return [];
  } catch (err) {
    if (!(err instanceof AscApiError && err.status === 403 && !err.isAgreementMissing)) throw err;
    return [
      {
        code: 'ASC_FORBIDDEN_ROLE',
        severity: 'error',
        message: `this key looks like a Developer key (Apple refused a read App Manager keys may do), so it cannot ${input.needs.join(', ')}`,
        fix: 'Use a key with the App Manager (or Admin) role, or upload only with `ascend upload`; nothing was uploaded.',
      },
    ];
  }
}
