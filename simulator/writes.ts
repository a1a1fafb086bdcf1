import { conflict, errorObject, SimError } from './errors.js';
import type { QueryCtx } from './jsonapi.js';
import { mustGet } from './reads.js';
import type { Rec } from './store.js';
import { created, type Schemas, visibleRel, type WriteHandler } from './write-helpers.js';

type Linkages = { data: { type: string; id: string }[] };

/** Every linkage target must exist and be visible; Apple points at the offending item. */
export function linkTargets(ctx: Pick<QueryCtx, 'store' | 'visible'>, type: string, body: Linkages): Rec[] {
  return body.data.map((item, i) => {
    const t = ctx.store.get(type, item.id);
    if (!t || !ctx.visible(t))
      throw conflict('ENTITY_ERROR.RELATIONSHIP.INVALID', `There is no ${type} with id '${item.id}'`, `/data/${i}/id`);
    return t;
  });
}

/**
 * Build ↔ beta group linkage edits (`POST|DELETE /v1/builds/{id}/relationships/betaGroups` and the group
 * side) answer 204; unknown ids are 409 with the pointer; build and group must belong to the same app.
 * Memberships are kept on the build side only; the group side is answered by looking them up.
 */
function editBuildGroups(ownerType: 'builds' | 'betaGroups', add: boolean): WriteHandler<Linkages> {
  return (ctx) => {
    const owner = mustGet(ctx, ownerType, ctx.pathParams[0]!);
    const targets = linkTargets(ctx, ownerType === 'builds' ? 'betaGroups' : 'builds', ctx.body);
    for (const target of targets) {
      const [build, group] = ownerType === 'builds' ? [owner, target] : [target, owner];
      if (group.rels.app !== build.rels.app)
        throw conflict(
          'ENTITY_ERROR.RELATIONSHIP.INVALID',
          'The build and the beta group belong to different apps',
          '/data',
        );
    }
    for (const target of targets) {
      const [build, group] = ownerType === 'builds' ? [owner, target] : [target, owner];
      const list = new Set((build.rels.betaGroups as string[] | undefined) ?? []);
      if (add) list.add(group.id);
      else list.delete(group.id);
      build.rels.betaGroups = [...list];
    }
    return { status: 204 };
  };
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-builduploads */
const createBuildUpload: WriteHandler<Schemas['BuildUploadCreateRequest']> = (ctx) => {
  const attrs = ctx.body.data.attributes;
  const app = visibleRel(ctx, 'apps', 'app', ctx.body.data.relationships.app.data.id);
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
  return created(ctx, rec);
};

/** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-builduploads-_id_ */
const deleteBuildUpload: WriteHandler<unknown> = (ctx) => {
  const rec = mustGet(ctx, 'buildUploads', ctx.pathParams[0]!);
  const state = (rec.attributes.state as { state: string }).state;
  if (state === 'PROCESSING' || state === 'COMPLETE') {
    throw conflict('STATE_ERROR', `A build upload in state ${state} cannot be deleted`);
  }
  for (const f of ctx.store.referencing('buildUploadFiles', rec.id)) ctx.store.remove('buildUploadFiles', f.id);
  ctx.store.remove('buildUploads', rec.id);
  return { status: 204 };
};

/** Writes that need no configuration; simulator/write-registry.ts adds the rest. */
export const WRITES: Record<string, WriteHandler> = {
  'POST /v1/buildUploads': createBuildUpload,
  'DELETE /v1/buildUploads/{id}': deleteBuildUpload,
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-builds-_id_-relationships-betagroups */
  'POST /v1/builds/{id}/relationships/betaGroups': editBuildGroups('builds', true),
  'DELETE /v1/builds/{id}/relationships/betaGroups': editBuildGroups('builds', false),
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betagroups-_id_-relationships-builds */
  'POST /v1/betaGroups/{id}/relationships/builds': editBuildGroups('betaGroups', true),
  'DELETE /v1/betaGroups/{id}/relationships/builds': editBuildGroups('betaGroups', false),
};
