import {
  attachBuild,
  createAppStoreVersion,
  createPhasedRelease,
  getAppStoreVersion,
  listAppStoreVersions,
  updateAppStoreVersionRelease,
} from '../asc/resources/app-store-versions.js';
import type { Build } from '../asc/resources/builds.js';
import {
  addVersionToSubmission,
  createReviewSubmission,
  listReviewSubmissionItems,
  listReviewSubmissions,
  type ReviewSubmission,
  submitReviewSubmission,
} from '../asc/resources/review-submissions.js';
import { AscendError } from '../core/errors.js';
import type { DeployContext } from './deploy.js';
import { wanted } from './deploy-plan.js';
import { idempotentWrite, writeOnce } from './reconcile.js';

const EDITABLE = new Set([
  'PREPARE_FOR_SUBMISSION',
  'DEVELOPER_REJECTED',
  'REJECTED',
  'METADATA_REJECTED',
  'INVALID_BINARY',
]);
const OPEN = new Set(['READY_FOR_REVIEW', 'UNRESOLVED_ISSUES']);
const IN_PROGRESS = new Set(['WAITING_FOR_REVIEW', 'IN_REVIEW', 'COMPLETING', 'CANCELING']);

/** App Store version (create or reuse), release type, build, phased release; then the review submission. */
export async function appStoreSteps(ctx: DeployContext, build: Build): Promise<void> {
  if (!wanted(ctx, 'appStore')) {
    ctx.record('appStore', 'skipped', 'no --app-store given');
    return;
  }
  const versionId = await versionStep(ctx, build);
  if (!versionId) return;
  if (wanted(ctx, 'submitReview')) await submitStep(ctx, versionId);
  else ctx.record('submitReview', 'skipped', 'no --submit-review given');
}

async function versionStep(ctx: DeployContext, build: Build): Promise<string | undefined> {
  const { client } = ctx.deps;
  const { version, platform } = ctx.report;
  const release = ctx.opts.release;
  const find = async () => (await listAppStoreVersions(client, ctx.app.id, { platform, versionString: version }))[0];
  let v = await find();
  const changes: string[] = [];
  if (!v) {
    if (ctx.opts.dryRun) {
      ctx.record(
        'appStore',
        'planned',
        `would create App Store version ${version} (${release.type}${ctx.opts.phased ? ', phased' : ''}) and attach build ${build.id}`,
      );
      return undefined;
    }
    v = await writeOnce(
      () =>
        createAppStoreVersion(client, {
          appId: ctx.app.id,
          platform,
          versionString: version,
          releaseType: release.type,
          earliestReleaseDate: release.date,
        }),
      find,
    );
    changes.push(`created version ${version}`);
  }
  const state = v.attributes?.appVersionState ?? 'PREPARE_FOR_SUBMISSION';
  const full = await getAppStoreVersion(client, v.id);
  const attached = full.data.relationships?.build?.data?.id;
  const phased = full.data.relationships?.appStoreVersionPhasedRelease?.data?.id;
  if (!EDITABLE.has(state)) {
    if (attached === build.id) {
      ctx.report.appStoreVersion = {
        id: v.id,
        versionString: version,
        releaseType: v.attributes?.releaseType ?? release.type,
        appVersionState: state,
      };
      ctx.record('appStore', 'already', `version ${version} is ${state} with this build`);
      return v.id;
    }
    throw new AscendError(
      'VERSION_TRAIN_CLOSED',
      `App Store version ${version} is ${state} and cannot take build ${build.id}`,
    );
  }
  const wantDate = release.type === 'SCHEDULED' ? release.date : undefined;
  if (v.attributes?.releaseType !== release.type || (wantDate && v.attributes?.earliestReleaseDate !== wantDate)) {
    if (!ctx.opts.dryRun) {
      const vid = v.id;
      v = await idempotentWrite(() => updateAppStoreVersionRelease(client, vid, release.type, wantDate));
    }
    changes.push(`release ${release.type}`);
  }
  if (attached !== build.id) {
    // PATCH of a to-one linkage: repeating it sets the same value, so it is safe after a lost answer.
    if (!ctx.opts.dryRun) {
      const vid = v.id;
      await idempotentWrite(() => attachBuild(client, vid, build.id));
    }
    changes.push(`attached build ${build.id}`);
  }
  let phasedState: string | null = null;
  if (ctx.opts.phased && !phased) {
    if (!ctx.opts.dryRun) {
      const vid = v.id;
      const p = await writeOnce(
        () => createPhasedRelease(client, vid),
        async () => {
          const id = (await getAppStoreVersion(client, vid)).data.relationships?.appStoreVersionPhasedRelease?.data?.id;
          return id
            ? {
                type: 'appStoreVersionPhasedReleases' as const,
                id,
                attributes: { phasedReleaseState: 'INACTIVE' as const },
              }
            : undefined;
        },
      );
      ctx.report.phasedRelease = { id: p.id, phasedReleaseState: p.attributes?.phasedReleaseState ?? 'INACTIVE' };
    }
    changes.push('phased release');
  } else if (phased) {
    ctx.report.phasedRelease = { id: phased, phasedReleaseState: 'INACTIVE' };
    const inc = full.included?.find((r) => r.type === 'appStoreVersionPhasedReleases' && r.id === phased) as
      | { attributes?: { phasedReleaseState?: string } }
      | undefined;
    phasedState = inc?.attributes?.phasedReleaseState ?? null;
    if (phasedState) ctx.report.phasedRelease.phasedReleaseState = phasedState;
  }
  ctx.report.appStoreVersion = {
    id: v.id,
    versionString: version,
    releaseType: v.attributes?.releaseType ?? release.type,
    appVersionState: state,
  };
  if (ctx.opts.dryRun)
    ctx.record(
      'appStore',
      changes.length ? 'planned' : 'already',
      changes.length ? `would: ${changes.join(', ')}` : `version ${version} is ready with this build`,
    );
  else
    ctx.record(
      'appStore',
      changes.length ? 'done' : 'already',
      changes.length ? changes.join(', ') : `version ${version} is ready with this build`,
    );
  return v.id;
}

async function submitStep(ctx: DeployContext, versionId: string): Promise<void> {
  const { client } = ctx.deps;
  const { platform } = ctx.report;
  const subs = await listReviewSubmissions(client, ctx.app.id, platform);
  const withItems = await Promise.all(
    subs.map(async (s) => ({
      s,
      versions: (await listReviewSubmissionItems(client, s.id)).map((i) => i.relationships?.appStoreVersion?.data?.id),
    })),
  );
  const ours = withItems.find((x) => x.versions.includes(versionId) && x.s.attributes?.state !== 'COMPLETE');
  const done = withItems.find((x) => x.versions.includes(versionId) && x.s.attributes?.state === 'COMPLETE');
  const report = (s: ReviewSubmission) => {
    ctx.report.reviewSubmission = { id: s.id, state: s.attributes?.state ?? 'READY_FOR_REVIEW' };
  };
  if (ours && IN_PROGRESS.has(String(ours.s.attributes?.state))) {
    report(ours.s);
    ctx.record('submitReview', 'already', `already submitted for review (${ours.s.attributes?.state})`);
    return;
  }
  if (done && !ours) {
    report(done.s);
    ctx.record('submitReview', 'already', 'this version was already reviewed');
    return;
  }
  const busy = withItems.find((x) => IN_PROGRESS.has(String(x.s.attributes?.state)) && !x.versions.includes(versionId));
  if (busy) {
    throw new AscendError(
      'REVIEW_IN_PROGRESS',
      `another review submission (${busy.s.id}) is ${busy.s.attributes?.state} for this app; Apple allows one at a time`,
    );
  }
  let open = ours?.s ?? withItems.find((x) => OPEN.has(String(x.s.attributes?.state)))?.s;
  if (ctx.opts.dryRun) {
    ctx.record(
      'submitReview',
      'planned',
      `would ${open ? `reuse review submission ${open.id}` : 'create a review submission'}, add version ${ctx.report.version} and submit it`,
    );
    return;
  }
  const findOpen = async () =>
    (await listReviewSubmissions(client, ctx.app.id, platform)).find((s) => OPEN.has(String(s.attributes?.state)));
  open ??= await writeOnce(() => createReviewSubmission(client, ctx.app.id, platform), findOpen);
  const sid = open.id;
  const items = await listReviewSubmissionItems(client, sid);
  if (!items.some((i) => i.relationships?.appStoreVersion?.data?.id === versionId)) {
    await writeOnce(
      () => addVersionToSubmission(client, sid, versionId),
      async () =>
        (await listReviewSubmissionItems(client, sid)).find(
          (i) => i.relationships?.appStoreVersion?.data?.id === versionId,
        ),
    );
  }
  const submitted = await writeOnce(
    () => submitReviewSubmission(client, sid),
    async () =>
      (await listReviewSubmissions(client, ctx.app.id, platform)).find(
        (s) => s.id === sid && IN_PROGRESS.has(String(s.attributes?.state)),
      ),
  );
  report(submitted);
  ctx.record('submitReview', 'done', `submitted version ${ctx.report.version} for App Review (${sid})`);
}
