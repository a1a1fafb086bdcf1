import type { Clock } from '../src/core/clock.js';
import { conflict } from './errors.js';
import { single } from './jsonapi.js';
import { mustGet } from './reads.js';
import type { Rec, Store } from './store.js';
import type { WriteCtx, WriteHandler, WriteResult } from './writes.js';

/**
 * TestFlight and App Store writes with the rules App Store Connect enforces (each with a 409 when broken):
 * export compliance, "What to Test", one build in beta review per app, one editable App Store version per
 * platform, one open review submission per platform, builds attachable only when processed and matching.
 */

function created(ctx: WriteCtx, rec: Rec): WriteResult {
  return {
    status: 201,
    body: single(rec, { ...ctx, path: `/v1/${rec.type}/${rec.id}` }),
    headers: { location: `${ctx.baseUrl}/v1/${rec.type}/${rec.id}` },
  };
}
const ok = (ctx: WriteCtx, rec: Rec): WriteResult => ({
  status: 200,
  body: single(rec, { ...ctx, path: `/v1/${rec.type}/${rec.id}` }),
});
const relId = (ctx: WriteCtx, name: string): string => ctx.body.data.relationships[name].data.id as string;
const now = (ctx: WriteCtx) => new Date(ctx.clock.now()).toISOString();

function visibleRel(ctx: WriteCtx, type: string, name: string): Rec {
  const id = relId(ctx, name);
  const rec = ctx.store.get(type, id);
  if (!rec || !ctx.visible(rec))
    throw conflict(
      'ENTITY_ERROR.RELATIONSHIP.INVALID',
      `There is no ${type} with id '${id}'`,
      `/data/relationships/${name}/data/id`,
    );
  return rec;
}

function syncBetaDetail(store: Store, build: Rec): void {
  const detail = store.get('buildBetaDetails', build.rels.buildBetaDetail as string);
  if (!detail || build.attributes.processingState !== 'VALID') return;
  const answered = build.attributes.usesNonExemptEncryption !== undefined;
  detail.attributes.internalBuildState = answered ? 'READY_FOR_BETA_TESTING' : 'MISSING_EXPORT_COMPLIANCE';
  const review = store.get('betaAppReviewSubmissions', build.rels.betaAppReviewSubmission as string);
  const map: Record<string, string> = {
    WAITING_FOR_REVIEW: 'WAITING_FOR_BETA_REVIEW',
    IN_REVIEW: 'IN_BETA_REVIEW',
    APPROVED: 'BETA_APPROVED',
    REJECTED: 'BETA_REJECTED',
  };
  detail.attributes.externalBuildState = !answered
    ? 'MISSING_EXPORT_COMPLIANCE'
    : review
      ? (map[String(review.attributes.betaReviewState)] ?? 'READY_FOR_BETA_SUBMISSION')
      : 'READY_FOR_BETA_SUBMISSION';
}

const EDITABLE = new Set([
  'PREPARE_FOR_SUBMISSION',
  'DEVELOPER_REJECTED',
  'REJECTED',
  'METADATA_REJECTED',
  'INVALID_BINARY',
]);
const OPEN_SUBMISSION = new Set([
  'READY_FOR_REVIEW',
  'WAITING_FOR_REVIEW',
  'IN_REVIEW',
  'UNRESOLVED_ISSUES',
  'CANCELING',
  'COMPLETING',
]);

export function releaseWrites(processingMs: number): Record<string, WriteHandler> {
  return {
    /** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-builds-_id_ */
    'PATCH /v1/builds/{id}': (ctx) => {
      const build = mustGet(ctx, 'builds', ctx.pathParams[0]!);
      const a = ctx.body.data.attributes ?? {};
      if (a.usesNonExemptEncryption !== undefined && a.usesNonExemptEncryption !== null) {
        if (
          build.attributes.usesNonExemptEncryption !== undefined &&
          build.attributes.usesNonExemptEncryption !== a.usesNonExemptEncryption
        ) {
          throw conflict(
            'ENTITY_ERROR.ATTRIBUTE.INVALID',
            'Export compliance was already answered for this build',
            '/data/attributes/usesNonExemptEncryption',
          );
        }
        build.attributes.usesNonExemptEncryption = a.usesNonExemptEncryption;
      }
      if (a.expired === true) build.attributes.expired = true;
      syncBetaDetail(ctx.store, build);
      return ok(ctx, build);
    },
    'POST /v1/betaBuildLocalizations': (ctx) => {
      const build = visibleRel(ctx, 'builds', 'build');
      const { locale, whatsNew } = ctx.body.data.attributes as { locale: string; whatsNew?: string };
      if (
        ctx.store
          .list('betaBuildLocalizations')
          .some((l) => l.rels.build === build.id && l.attributes.locale === locale)
      ) {
        throw conflict(
          'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE',
          `A localization for locale '${locale}' already exists for this build`,
          '/data/attributes/locale',
        );
      }
      if (whatsNew !== undefined && whatsNew.length > 4000)
        throw conflict(
          'ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG',
          'whatsNew is longer than 4000 characters',
          '/data/attributes/whatsNew',
        );
      const rec = ctx.store.insert({
        type: 'betaBuildLocalizations',
        teamId: build.teamId,
        attributes: { locale, whatsNew: whatsNew ?? null },
        rels: { build: build.id },
      });
      build.rels.betaBuildLocalizations = [...((build.rels.betaBuildLocalizations as string[]) ?? []), rec.id];
      return created(ctx, rec);
    },
    'PATCH /v1/betaBuildLocalizations/{id}': (ctx) => {
      const rec = mustGet(ctx, 'betaBuildLocalizations', ctx.pathParams[0]!);
      const whatsNew = ctx.body.data.attributes?.whatsNew;
      if (typeof whatsNew === 'string') rec.attributes.whatsNew = whatsNew;
      return ok(ctx, rec);
    },
    /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betaappreviewsubmissions */
    'POST /v1/betaAppReviewSubmissions': (ctx) => {
      const build = visibleRel(ctx, 'builds', 'build');
      if (build.attributes.processingState !== 'VALID') throw conflict('STATE_ERROR', 'The build is not processed yet');
      if (build.attributes.usesNonExemptEncryption === undefined)
        throw conflict(
          'STATE_ERROR.MISSING_EXPORT_COMPLIANCE',
          'Export compliance must be answered before beta review',
        );
      const texts = ctx.store
        .list('betaBuildLocalizations')
        .filter((l) => l.rels.build === build.id && l.attributes.whatsNew);
      if (!texts.length)
        throw conflict(
          'STATE_ERROR.WHATS_NEW_REQUIRED',
          '"What to Test" is required before a build can be submitted for beta review',
        );
      if (build.rels.betaAppReviewSubmission)
        throw conflict('ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE', 'This build was already submitted for beta review');
      const busy = ctx.store
        .list('betaAppReviewSubmissions')
        .some(
          (s) =>
            s.internal?.appId === build.rels.app &&
            ['WAITING_FOR_REVIEW', 'IN_REVIEW'].includes(String(s.attributes.betaReviewState)),
        );
      if (busy) throw conflict('STATE_ERROR.ANOTHER_BUILD_IN_REVIEW', 'Another build is in review');
      const rec = ctx.store.insert({
        type: 'betaAppReviewSubmissions',
        teamId: build.teamId,
        attributes: { betaReviewState: 'WAITING_FOR_REVIEW', submittedDate: now(ctx) },
        rels: { build: build.id },
        internal: {
          appId: build.rels.app,
          reviewAt: ctx.clock.now() + processingMs,
          doneAt: ctx.clock.now() + 2 * processingMs,
        },
      });
      build.rels.betaAppReviewSubmission = rec.id;
      syncBetaDetail(ctx.store, build);
      return created(ctx, rec);
    },
    /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-appstoreversions */
    'POST /v1/appStoreVersions': (ctx) => {
      const app = visibleRel(ctx, 'apps', 'app');
      const a = ctx.body.data.attributes as {
        platform: string;
        versionString: string;
        releaseType?: string;
        earliestReleaseDate?: string;
      };
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
    },
    'PATCH /v1/appStoreVersions/{id}': (ctx) => {
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
    },
    /** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-appstoreversions-_id_-relationships-build */
    'PATCH /v1/appStoreVersions/{id}/relationships/build': (ctx) => {
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
    'POST /v1/appStoreVersionPhasedReleases': (ctx) => {
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
    'PATCH /v1/appStoreVersionPhasedReleases/{id}': (ctx) => {
      const rec = mustGet(ctx, 'appStoreVersionPhasedReleases', ctx.pathParams[0]!);
      const state = ctx.body.data.attributes?.phasedReleaseState;
      if (state) rec.attributes.phasedReleaseState = state;
      return ok(ctx, rec);
    },
    /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-reviewsubmissions */
    'POST /v1/reviewSubmissions': (ctx) => {
      const app = visibleRel(ctx, 'apps', 'app');
      const platform = (ctx.body.data.attributes?.platform as string | undefined) ?? 'IOS';
      const open = ctx.store
        .list('reviewSubmissions')
        .find(
          (s) =>
            s.rels.app === app.id &&
            s.attributes.platform === platform &&
            OPEN_SUBMISSION.has(String(s.attributes.state)),
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
    },
    'POST /v1/reviewSubmissionItems': (ctx) => {
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
    },
    /** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-reviewsubmissions-_id_ */
    'PATCH /v1/reviewSubmissions/{id}': (ctx) => {
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
        sub.internal = { reviewAt: ctx.clock.now() + processingMs, doneAt: ctx.clock.now() + 2 * processingMs };
        for (const i of items) {
          const v = ctx.store.get('appStoreVersions', i.rels.appStoreVersion as string);
          if (v) v.attributes.appVersionState = v.attributes.appStoreState = 'WAITING_FOR_REVIEW';
        }
      }
      if (a.canceled === true && OPEN_SUBMISSION.has(String(sub.attributes.state))) sub.attributes.state = 'CANCELING';
      return ok(ctx, sub);
    },
  };
}

/** Review progressions over time (beta review, App Review); returns whether anything changed. */
export function advanceReviews(store: Store, clock: Clock): boolean {
  const t = clock.now();
  let changed = false;
  for (const s of store.list('betaAppReviewSubmissions')) {
    const st = String(s.attributes.betaReviewState);
    const next =
      st === 'WAITING_FOR_REVIEW' && t >= Number(s.internal?.reviewAt)
        ? 'IN_REVIEW'
        : st === 'IN_REVIEW' && t >= Number(s.internal?.doneAt)
          ? 'APPROVED'
          : undefined;
    if (!next) continue;
    s.attributes.betaReviewState = next;
    const b = store.get('builds', s.rels.build as string);
    if (b) syncBetaDetail(store, b);
    changed = true;
  }
  for (const s of store.list('reviewSubmissions')) {
    const st = String(s.attributes.state);
    let next: string | undefined;
    if (st === 'WAITING_FOR_REVIEW' && t >= Number(s.internal?.reviewAt)) next = 'IN_REVIEW';
    else if (st === 'IN_REVIEW' && t >= Number(s.internal?.doneAt)) next = 'COMPLETE';
    else if (st === 'CANCELING') next = 'COMPLETE';
    if (!next) continue;
    s.attributes.state = next;
    changed = true;
    for (const i of store.list('reviewSubmissionItems').filter((x) => x.rels.reviewSubmission === s.id)) {
      const v = store.get('appStoreVersions', i.rels.appStoreVersion as string);
      if (!v) continue;
      if (st === 'CANCELING') v.attributes.appVersionState = v.attributes.appStoreState = 'DEVELOPER_REJECTED';
      else if (next === 'IN_REVIEW') v.attributes.appVersionState = v.attributes.appStoreState = 'IN_REVIEW';
      else {
        i.attributes.state = 'APPROVED';
        // Approval closes the version's train: AFTER_APPROVAL goes live, the others wait for release.
        const live = v.attributes.releaseType === 'AFTER_APPROVAL';
        v.attributes.appVersionState = live ? 'READY_FOR_DISTRIBUTION' : 'PENDING_DEVELOPER_RELEASE';
        v.attributes.appStoreState = live ? 'READY_FOR_SALE' : 'PENDING_DEVELOPER_RELEASE';
      }
    }
  }
  return changed;
}
