import type { Clock } from '../src/core/clock.js';
import { conflict, errorObject, SimError } from './errors.js';
import { type QueryCtx, single } from './jsonapi.js';
import { mustGet } from './reads.js';
import { visibleRel } from './write-helpers.js';

export interface WriteCtx extends QueryCtx {
  // biome-ignore lint/suspicious/noExplicitAny: the body was validated against Apple's schema before a handler runs.
  body: any;
  pathParams: string[];
  clock: Clock;
  teamId: string;
}

export interface WriteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type WriteHandler = (ctx: WriteCtx) => WriteResult | Promise<WriteResult>;

function created(ctx: WriteCtx, type: string, id: string): WriteResult {
  const rec = ctx.store.get(type, id)!;
  return {
    status: 201,
    body: single(rec, { ...ctx, path: `/v1/${type}/${id}` }),
    headers: { location: `${ctx.baseUrl}/v1/${type}/${id}` },
  };
}

/** Linkage edits (`POST|DELETE /v1/X/{id}/relationships/Y`) answer 204; unknown ids are 409 with the pointer. */
function editLinks(ownerType: string, rel: string, targetType: string, add: boolean): WriteHandler {
  return (ctx) => {
    const owner = mustGet(ctx, ownerType, ctx.pathParams[0]!);
    const items = ctx.body.data as { type: string; id: string }[];
    items.forEach((item, i) => {
      const t = ctx.store.get(targetType, item.id);
      if (!t || !ctx.visible(t))
        throw conflict(
          'ENTITY_ERROR.RELATIONSHIP.INVALID',
          `There is no ${targetType} with id '${item.id}'`,
          `/data/${i}/id`,
        );
    });
    // Memberships are kept on the build side only; the group side is answered by looking them up.
    for (const item of items) {
      const [build, group] =
        ownerType === 'builds'
          ? [owner, ctx.store.get(targetType, item.id)!]
          : [ctx.store.get(targetType, item.id)!, owner];
      const list = new Set((build.rels.betaGroups as string[] | undefined) ?? []);
      if (group.rels.app !== build.rels.app) {
        throw conflict(
          'ENTITY_ERROR.RELATIONSHIP.INVALID',
          'The build and the beta group belong to different apps',
          '/data',
        );
      }
      if (add) list.add(group.id);
      else list.delete(group.id);
      build.rels.betaGroups = [...list];
    }
    void rel;
    return { status: 204 };
  };
}

/** Writes that need no configuration; the server adds the upload handlers (simulator/uploads.ts). */
export const WRITES: Record<string, WriteHandler> = {
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-builduploads */
  'POST /v1/buildUploads': (ctx) => {
    const attrs = ctx.body.data.attributes as {
      cfBundleShortVersionString: string;
      cfBundleVersion: string;
      platform: string;
    };
    const app = visibleRel(ctx, 'apps', 'app');
    const appId = app.id;
    const errors = [];
    for (const f of ['cfBundleShortVersionString', 'cfBundleVersion'] as const) {
      if (!/^\d+(\.\d+){0,2}$/.test(attrs[f])) {
        errors.push(
          errorObject(
            409,
            'ENTITY_ERROR.ATTRIBUTE.INVALID',
            'An attribute value is invalid.',
            `'${attrs[f]}' is not a valid ${f}`,
            { pointer: `/data/attributes/${f}` },
          ),
        );
      }
    }
    if (errors.length) throw new SimError(409, errors);
    const now = new Date(ctx.clock.now()).toISOString();
    const rec = ctx.store.insert({
      type: 'buildUploads',
      teamId: app.teamId,
      attributes: {
        ...attrs,
        createdDate: now,
        state: { state: 'AWAITING_UPLOAD', errors: [], warnings: [], infos: [] },
      },
      rels: { app: appId, build: null, assetFile: null, assetDescriptionFile: null, assetSpiFile: null },
    });
    return created(ctx, 'buildUploads', rec.id);
  },
  /** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-builduploads-_id_ */
  'DELETE /v1/buildUploads/{id}': (ctx) => {
    const rec = mustGet(ctx, 'buildUploads', ctx.pathParams[0]!);
    const state = (rec.attributes.state as { state: string }).state;
    if (state === 'PROCESSING' || state === 'COMPLETE') {
      throw conflict('STATE_ERROR', `A build upload in state ${state} cannot be deleted`);
    }
    for (const f of ctx.store.referencing('buildUploadFiles', rec.id)) ctx.store.remove('buildUploadFiles', f.id);
    ctx.store.remove('buildUploads', rec.id);
    return { status: 204 };
  },
  'POST /v1/builds/{id}/relationships/betaGroups': editLinks('builds', 'betaGroups', 'betaGroups', true),
  'DELETE /v1/builds/{id}/relationships/betaGroups': editLinks('builds', 'betaGroups', 'betaGroups', false),
  'POST /v1/betaGroups/{id}/relationships/builds': editLinks('betaGroups', 'builds', 'builds', true),
  'DELETE /v1/betaGroups/{id}/relationships/builds': editLinks('betaGroups', 'builds', 'builds', false),
};
