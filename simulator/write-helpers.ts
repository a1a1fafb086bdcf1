import { conflict } from './errors.js';
import { single } from './jsonapi.js';
import type { Rec, Store } from './store.js';
import type { WriteCtx, WriteResult } from './writes.js';

/**
 * Shared by the TestFlight and App Store writes, which enforce App Store Connect's rules with a 409 each:
 * export compliance, "What to Test", one build in beta review per app, one editable App Store version per
 * platform, one open review submission per platform, builds attachable only when processed and matching.
 */

export function created(ctx: WriteCtx, rec: Rec): WriteResult {
  return {
    status: 201,
    body: single(rec, { ...ctx, path: `/v1/${rec.type}/${rec.id}` }),
    headers: { location: `${ctx.baseUrl}/v1/${rec.type}/${rec.id}` },
  };
}
export const ok = (ctx: WriteCtx, rec: Rec): WriteResult => ({
  status: 200,
  body: single(rec, { ...ctx, path: `/v1/${rec.type}/${rec.id}` }),
});
export const relId = (ctx: WriteCtx, name: string): string => ctx.body.data.relationships[name].data.id as string;
export const now = (ctx: WriteCtx) => new Date(ctx.clock.now()).toISOString();

export function visibleRel(ctx: WriteCtx, type: string, name: string): Rec {
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

export function syncBetaDetail(store: Store, build: Rec): void {
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

export const EDITABLE = new Set([
  'PREPARE_FOR_SUBMISSION',
  'DEVELOPER_REJECTED',
  'REJECTED',
  'METADATA_REJECTED',
  'INVALID_BINARY',
]);
export const OPEN_SUBMISSION = new Set([
  'READY_FOR_REVIEW',
  'WAITING_FOR_REVIEW',
  'IN_REVIEW',
  'UNRESOLVED_ISSUES',
  'CANCELING',
  'COMPLETING',
]);
