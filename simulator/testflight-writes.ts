import type { Clock } from '../src/core/clock.js';
import { conflict } from './errors.js';
import { mustGet } from './reads.js';
import type { Store } from './store.js';
import {
  created,
  now,
  ok,
  type Schemas,
  syncBetaDetail,
  visibleRel,
  type WriteHandler,
  write,
} from './write-helpers.js';

/** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-builds-_id_ */
const patchBuildsId: WriteHandler = write<Schemas['BuildUpdateRequest']>((ctx) => {
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
  if (a.expired === true) {
    build.attributes.expired = true;
    build.internal = { ...build.internal, expiredByPatch: true };
  }
  syncBetaDetail(ctx.store, build);
  return ok(ctx, build);
});

const postBetaBuildLocalizations: WriteHandler = write<Schemas['BetaBuildLocalizationCreateRequest']>((ctx) => {
  const build = visibleRel(ctx, 'builds', 'build');
  const { locale, whatsNew } = ctx.body.data.attributes as { locale: string; whatsNew?: string };
  if (
    ctx.store.list('betaBuildLocalizations').some((l) => l.rels.build === build.id && l.attributes.locale === locale)
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
    attributes: { locale, ...(whatsNew === undefined || whatsNew === null ? {} : { whatsNew }) },
    rels: { build: build.id },
  });
  build.rels.betaBuildLocalizations = [...((build.rels.betaBuildLocalizations as string[]) ?? []), rec.id];
  return created(ctx, rec);
});

const patchBetaBuildLocalizationsId: WriteHandler = write<Schemas['BetaBuildLocalizationUpdateRequest']>((ctx) => {
  const rec = mustGet(ctx, 'betaBuildLocalizations', ctx.pathParams[0]!);
  const whatsNew = ctx.body.data.attributes?.whatsNew;
  if (typeof whatsNew === 'string') rec.attributes.whatsNew = whatsNew;
  return ok(ctx, rec);
});

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betaappreviewsubmissions */
const postBetaAppReviewSubmissions = (reviewMs: number): WriteHandler =>
  write<Schemas['BetaAppReviewSubmissionCreateRequest']>((ctx) => {
    const build = visibleRel(ctx, 'builds', 'build');
    if (build.attributes.processingState !== 'VALID') throw conflict('STATE_ERROR', 'The build is not processed yet');
    if (build.attributes.usesNonExemptEncryption === undefined)
      throw conflict('STATE_ERROR.MISSING_EXPORT_COMPLIANCE', 'Export compliance must be answered before beta review');
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
    // Apple's rule is per version: another build of the same version waiting for or in beta review blocks
    // this one; builds of other versions of the app may be reviewed side by side.
    const busy = ctx.store
      .list('betaAppReviewSubmissions')
      .some(
        (s) =>
          s.internal?.appId === build.rels.app &&
          ctx.store.get('builds', s.rels.build as string)?.rels.preReleaseVersion === build.rels.preReleaseVersion &&
          ['WAITING_FOR_REVIEW', 'IN_REVIEW'].includes(String(s.attributes.betaReviewState)),
      );
    if (busy) throw conflict('STATE_ERROR.ANOTHER_BUILD_IN_REVIEW', 'Another build is in review');
    const rec = ctx.store.insert({
      type: 'betaAppReviewSubmissions',
      teamId: build.teamId,
      attributes: { betaReviewState: 'WAITING_FOR_REVIEW', submittedDate: now(ctx) },
      rels: { build: build.id },
      internal: {
        appId: build.rels.app as string,
        reviewAt: ctx.clock.now() + reviewMs,
        doneAt: ctx.clock.now() + 2 * reviewMs,
      },
    });
    build.rels.betaAppReviewSubmission = rec.id;
    syncBetaDetail(ctx.store, build);
    return created(ctx, rec);
  });

/** TestFlight writes: export compliance, "What to Test", beta review. */
export function testflightWrites(reviewMs: number): Record<string, WriteHandler> {
  return {
    'PATCH /v1/builds/{id}': patchBuildsId,
    'POST /v1/betaBuildLocalizations': postBetaBuildLocalizations,
    'PATCH /v1/betaBuildLocalizations/{id}': patchBetaBuildLocalizationsId,
    'POST /v1/betaAppReviewSubmissions': postBetaAppReviewSubmissions(reviewMs),
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
    let next: 'IN_REVIEW' | 'COMPLETE' | undefined;
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
