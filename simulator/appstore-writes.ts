import { conflict } from './errors.js';
import { mustGet } from './reads.js';
import {
  created,
  EDITABLE,
  now,
  OPEN_SUBMISSION,
  ok,
  type Schemas,
  visibleRel,
  type WriteHandler,
  write,
} from './write-helpers.js';

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-appstoreversions */
const postAppStoreVersions: WriteHandler = write<Schemas['AppStoreVersionCreateRequest']>((ctx) => {
  const app = visibleRel(ctx, 'apps', 'app');
  const a = ctx.body.data.attributes;

  if (!/^\d+(\.\d+){0,2}$/.test(a.versionString))
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID',
      `'${a.versionString}' is not a valid version`,
      '/data/attributes/versionString',
    );
  const versions = ctx.store
    .list('appStoreVersions')
    .filter((v) => v.rels.app === app.id && v.attributes.platform === a.platform);
  if (versions.some((v) => v.attributes.versionString === a.versionString)) {
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE',
      `Version ${a.versionString} already exists`,
      '/data/attributes/versionString',
    );
  }
  if (
    versions.some(
      (v) =>
        EDITABLE.has(String(v.attributes.appVersionState)) ||
        ['WAITING_FOR_REVIEW', 'IN_REVIEW'].includes(String(v.attributes.appVersionState)),
    )
  ) {
    throw conflict(
      'STATE_ERROR',
      'You cannot create a new version of the App in the current state: another version is being prepared or reviewed',
    );
  }
  const rec = ctx.store.insert({
    type: 'appStoreVersions',
    teamId: app.teamId,
    attributes: {
      platform: a.platform,
      versionString: a.versionString,
      appStoreState: 'PREPARE_FOR_SUBMISSION',
      appVersionState: 'PREPARE_FOR_SUBMISSION',
      releaseType: a.releaseType ?? 'AFTER_APPROVAL',
      ...(a.earliestReleaseDate ? { earliestReleaseDate: a.earliestReleaseDate } : {}),
      createdDate: now(ctx),
      downloadable: true,
    },
    rels: { app: app.id, build: null, appStoreVersionPhasedRelease: null },
  });
  return created(ctx, rec);
});

const patchAppStoreVersionsId: WriteHandler = write<Schemas['AppStoreVersionUpdateRequest']>((ctx) => {
  const v = mustGet(ctx, 'appStoreVersions', ctx.pathParams[0]!);
  if (!EDITABLE.has(String(v.attributes.appVersionState)))
    throw conflict('STATE_ERROR', `The version is ${String(v.attributes.appVersionState)} and cannot be edited`);
  const a = ctx.body.data.attributes ?? {};
  for (const k of ['releaseType', 'earliestReleaseDate', 'copyright', 'downloadable'] as const)
    if (a[k] !== undefined) v.attributes[k] = a[k];
  if (a.releaseType === 'SCHEDULED' && !v.attributes.earliestReleaseDate) {
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.REQUIRED',
      'A scheduled release needs earliestReleaseDate',
      '/data/attributes/earliestReleaseDate',
    );
  }
  return ok(ctx, v);
});

/** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-appstoreversions-_id_-relationships-build */
const patchAppStoreVersionsIdRelationshipsBuild: WriteHandler = write<Schemas['AppStoreVersionBuildLinkageRequest']>(
  (ctx) => {
    const v = mustGet(ctx, 'appStoreVersions', ctx.pathParams[0]!);
    const buildId = ctx.body.data?.id as string;
    const build = ctx.store.get('builds', buildId);
    if (!build || !ctx.visible(build))
      throw conflict('ENTITY_ERROR.RELATIONSHIP.INVALID', `There is no build with id '${buildId}'`, '/data/id');
    if (!EDITABLE.has(String(v.attributes.appVersionState)))
      throw conflict('STATE_ERROR', 'The build of a version in review or released cannot change');
    if (build.rels.app !== v.rels.app)
      throw conflict('ENTITY_ERROR.RELATIONSHIP.INVALID', 'The build belongs to another app', '/data/id');
    if (build.attributes.processingState !== 'VALID')
      throw conflict('STATE_ERROR', 'Only processed (VALID) builds can be attached');
    const train = ctx.store.get('preReleaseVersions', build.rels.preReleaseVersion as string);
    if (
      train?.attributes.platform !== v.attributes.platform ||
      train?.attributes.version !== v.attributes.versionString
    ) {
      throw conflict(
        'ENTITY_ERROR.RELATIONSHIP.INVALID',
        `The build is from ${String(train?.attributes.version)} (${String(train?.attributes.platform)}), not ${String(v.attributes.versionString)}`,
        '/data/id',
      );
    }
    v.rels.build = build.id;
    build.rels.appStoreVersion = v.id;
    return { status: 204 };
  },
);

const postAppStoreVersionPhasedReleases: WriteHandler = write<Schemas['AppStoreVersionPhasedReleaseCreateRequest']>(
  (ctx) => {
    const v = visibleRel(ctx, 'appStoreVersions', 'appStoreVersion');
    if (v.rels.appStoreVersionPhasedRelease)
      throw conflict('ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE', 'This version already has a phased release');
    const state = ctx.body.data.attributes?.phasedReleaseState ?? 'INACTIVE';
    const rec = ctx.store.insert({
      type: 'appStoreVersionPhasedReleases',
      teamId: v.teamId,
      attributes: { phasedReleaseState: state, totalPauseDuration: 0, currentDayNumber: 0 },
      rels: { appStoreVersion: v.id },
    });
    v.rels.appStoreVersionPhasedRelease = rec.id;
    return created(ctx, rec);
  },
);

const patchAppStoreVersionPhasedReleasesId: WriteHandler = write<Schemas['AppStoreVersionPhasedReleaseUpdateRequest']>(
  (ctx) => {
    const rec = mustGet(ctx, 'appStoreVersionPhasedReleases', ctx.pathParams[0]!);
    const state = ctx.body.data.attributes?.phasedReleaseState;
    if (state) rec.attributes.phasedReleaseState = state;
    return ok(ctx, rec);
  },
);

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-reviewsubmissions */
const postReviewSubmissions: WriteHandler = write<Schemas['ReviewSubmissionCreateRequest']>((ctx) => {
  const app = visibleRel(ctx, 'apps', 'app');
  const platform = ctx.body.data.attributes?.platform ?? 'IOS';
  const open = ctx.store
    .list('reviewSubmissions')
    .find(
      (s) =>
        s.rels.app === app.id && s.attributes.platform === platform && OPEN_SUBMISSION.has(String(s.attributes.state)),
    );
  if (open)
    throw conflict(
      'STATE_ERROR.ANOTHER_SUBMISSION_IN_PROGRESS',
      `Another review submission (${open.id}) is still in progress for this platform`,
    );
  const rec = ctx.store.insert({
    type: 'reviewSubmissions',
    teamId: app.teamId,
    attributes: { platform, state: 'READY_FOR_REVIEW' },
    rels: { app: app.id },
  });
  return created(ctx, rec);
});

const postReviewSubmissionItems: WriteHandler = write<Schemas['ReviewSubmissionItemCreateRequest']>((ctx) => {
  const sub = visibleRel(ctx, 'reviewSubmissions', 'reviewSubmission');
  if (!['READY_FOR_REVIEW', 'UNRESOLVED_ISSUES'].includes(String(sub.attributes.state)))
    throw conflict('STATE_ERROR', 'Items can only be added before the submission is sent');
  const v = visibleRel(ctx, 'appStoreVersions', 'appStoreVersion');
  if (!v.rels.build) throw conflict('STATE_ERROR.BUILD_REQUIRED', 'The version has no build attached');
  if (
    ctx.store
      .list('reviewSubmissionItems')
      .some((i) => i.rels.reviewSubmission === sub.id && i.rels.appStoreVersion === v.id)
  ) {
    throw conflict('ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE', 'This version is already in the submission');
  }
  const rec = ctx.store.insert({
    type: 'reviewSubmissionItems',
    teamId: sub.teamId,
    attributes: { state: 'READY_FOR_REVIEW' },
    rels: { reviewSubmission: sub.id, appStoreVersion: v.id },
  });
  sub.rels.items = [...((sub.rels.items as string[]) ?? []), rec.id];
  return created(ctx, rec);
});

/** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-reviewsubmissions-_id_ */
const patchReviewSubmissionsId = (reviewMs: number): WriteHandler =>
  write<Schemas['ReviewSubmissionUpdateRequest']>((ctx) => {
    const sub = mustGet(ctx, 'reviewSubmissions', ctx.pathParams[0]!);
    const a = ctx.body.data.attributes ?? {};
    if (a.submitted === true) {
      if (sub.attributes.state !== 'READY_FOR_REVIEW' && sub.attributes.state !== 'UNRESOLVED_ISSUES')
        throw conflict(
          'STATE_ERROR',
          `The submission is ${String(sub.attributes.state)} and cannot be submitted again`,
        );
      const items = ctx.store.list('reviewSubmissionItems').filter((i) => i.rels.reviewSubmission === sub.id);
      if (!items.length) throw conflict('STATE_ERROR.ITEMS_REQUIRED', 'A submission needs at least one item');
      sub.attributes.state = 'WAITING_FOR_REVIEW';
      sub.attributes.submittedDate = now(ctx);
      sub.internal = { reviewAt: ctx.clock.now() + reviewMs, doneAt: ctx.clock.now() + 2 * reviewMs };
      for (const i of items) {
        const v = ctx.store.get('appStoreVersions', i.rels.appStoreVersion as string);
        if (v) v.attributes.appVersionState = v.attributes.appStoreState = 'WAITING_FOR_REVIEW';
      }
    }
    if (a.canceled === true && OPEN_SUBMISSION.has(String(sub.attributes.state))) sub.attributes.state = 'CANCELING';
    return ok(ctx, sub);
  });

/** App Store writes: versions, build attachment, phased release, review submissions. */
export function appStoreWrites(reviewMs: number): Record<string, WriteHandler> {
  return {
    'POST /v1/appStoreVersions': postAppStoreVersions,
    'PATCH /v1/appStoreVersions/{id}': patchAppStoreVersionsId,
    'PATCH /v1/appStoreVersions/{id}/relationships/build': patchAppStoreVersionsIdRelationshipsBuild,
    'POST /v1/appStoreVersionPhasedReleases': postAppStoreVersionPhasedReleases,
    'PATCH /v1/appStoreVersionPhasedReleases/{id}': patchAppStoreVersionPhasedReleasesId,
    'POST /v1/reviewSubmissions': postReviewSubmissions,
    'POST /v1/reviewSubmissionItems': postReviewSubmissionItems,
    'PATCH /v1/reviewSubmissions/{id}': patchReviewSubmissionsId(reviewMs),
  };
}
