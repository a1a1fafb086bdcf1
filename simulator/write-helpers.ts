import type { components } from '../src/asc/schema/openapi-types.js';
import type { Clock } from '../src/core/clock.js';
import { conflict } from './errors.js';
import { type QueryCtx, single } from './jsonapi.js';
import type { ResourceAttributes } from './records.js';
import type { Rec, Store } from './store.js';

/** Apple's schemas, generated from the OpenAPI file: request bodies are typed by them. */
export type Schemas = components['schemas'];

/** What a write handler gets: the request body, already validated against the operation's schema. */
export interface WriteCtx<B = unknown> extends QueryCtx {
  body: B;
  pathParams: string[];
  /** The simulator's clock (`--clock`), not the token clock. */
  clock: Clock;
  teamId: string;
}

export interface WriteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A write operation; `B` is the request schema (a handler of any body fits `WriteHandler<never>`). */
export type WriteHandler<B = never> = (ctx: WriteCtx<B>) => WriteResult | Promise<WriteResult>;

/**
 * Shared by the TestFlight and App Store writes, which enforce App Store Connect's rules with a 409 each:
 * export compliance, "What to Test", one build in beta review per app, one editable App Store version per
 * platform, one open review submission per platform, builds attachable only when processed and matching.
 */

/** 201 with the resource document and its Location, as every Apple create answers. */
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
/** The id of a to-one relationship in a create body (validated to be present by the request schema). */
export function relId(ctx: WriteCtx, name: string): string {
  const body = ctx.body as { data?: { relationships?: Record<string, { data?: { id?: string } | null }> } };
  return String(body.data?.relationships?.[name]?.data?.id);
}
export const now = (ctx: WriteCtx) => new Date(ctx.clock.now()).toISOString();

/** The related record a create names, or Apple's 409 with the pointer when it is unknown or another team's. */
export function visibleRel(ctx: WriteCtx, type: string, name: string, id = relId(ctx, name)): Rec {
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
  const map: Record<string, NonNullable<ResourceAttributes['buildBetaDetails']['externalBuildState']>> = {
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

/** Declares a handler's request schema: `write<Schemas['XCreateRequest']>((ctx) => …)`. */
export const write = <B>(fn: WriteHandler<B>): WriteHandler => fn;
