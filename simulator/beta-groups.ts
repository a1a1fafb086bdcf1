import { randomBytes } from 'node:crypto';
import { conflict } from './errors.js';
import { mustGet } from './reads.js';
import type { Rec } from './store.js';
import { created, now, ok, type Schemas, visibleRel, type WriteCtx, type WriteHandler } from './write-helpers.js';
import { linkTargets } from './writes.js';

/** Apple's ceiling on a public link's tester limit (TestFlight: 10,000 external testers per app). */
export const PUBLIC_LINK_MAX = 10_000;

type GroupAttrs = {
  name?: string | null;
  publicLinkEnabled?: boolean | null;
  publicLinkLimitEnabled?: boolean | null;
  publicLinkLimit?: number | null;
};

/** App Store Connect's rules for a group's settings once applied: public links are for external groups only. */
function checkGroupRules(ctx: WriteCtx, app: Rec, group: Rec, attrs: GroupAttrs): void {
  const internal = group.attributes.isInternalGroup === true;
  const wantsLink =
    attrs.publicLinkEnabled === true || attrs.publicLinkLimitEnabled === true || attrs.publicLinkLimit != null;
  if (internal && wantsLink)
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID',
      'Internal groups cannot have a public link; only external groups can be joined by link',
      `/data/attributes/${attrs.publicLinkEnabled === true ? 'publicLinkEnabled' : attrs.publicLinkLimitEnabled === true ? 'publicLinkLimitEnabled' : 'publicLinkLimit'}`,
    );
  if (attrs.publicLinkLimit != null && (attrs.publicLinkLimit < 1 || attrs.publicLinkLimit > PUBLIC_LINK_MAX))
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID',
      `publicLinkLimit must be between 1 and ${PUBLIC_LINK_MAX}`,
      '/data/attributes/publicLinkLimit',
    );
  const limitEnabled = attrs.publicLinkLimitEnabled ?? group.attributes.publicLinkLimitEnabled;
  if (attrs.publicLinkLimit != null && limitEnabled !== true)
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID',
      'publicLinkLimit needs publicLinkLimitEnabled',
      '/data/attributes/publicLinkLimit',
    );
  if (typeof attrs.name === 'string') {
    if (!attrs.name.trim())
      throw conflict('ENTITY_ERROR.ATTRIBUTE.INVALID', 'A group name cannot be empty', '/data/attributes/name');
    const clash = ctx.store
      .list('betaGroups')
      .some((g) => g.id !== group.id && g.rels.app === app.id && g.attributes.name === attrs.name);
    if (clash)
      throw conflict(
        'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE',
        `A group named '${attrs.name}' already exists for this app`,
        '/data/attributes/name',
      );
  }
}

/** Applies patchable settings; enabling the public link mints its id and TestFlight URL. */
function applyGroupAttrs(group: Rec, attrs: GroupAttrs & { feedbackEnabled?: boolean | null }): void {
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) group.attributes[k] = v;
  if (group.attributes.publicLinkEnabled === true && !group.attributes.publicLinkId) {
    const id = randomBytes(6).toString('base64url');
    group.attributes.publicLinkId = id;
    group.attributes.publicLink = `https://testflight.apple.com/join/${id}`;
  }
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betagroups */
const createGroup: WriteHandler<Schemas['BetaGroupCreateRequest']> = (ctx) => {
  const { attributes: a, relationships: r } = ctx.body.data;
  const app = visibleRel(ctx, 'apps', 'app', r.app.data.id);
  const internal = a.isInternalGroup === true;
  if (!internal && a.hasAccessToAllBuilds === true)
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID',
      'Only internal groups can have access to all builds',
      '/data/attributes/hasAccessToAllBuilds',
    );
  const draft = {
    type: 'betaGroups',
    teamId: app.teamId,
    attributes: {
      name: a.name,
      createdDate: now(ctx),
      isInternalGroup: internal,
      hasAccessToAllBuilds: internal && a.hasAccessToAllBuilds === true,
      publicLinkEnabled: false,
      publicLinkLimitEnabled: false,
      feedbackEnabled: a.feedbackEnabled ?? true,
    },
    rels: { app: app.id },
  };
  checkGroupRules(ctx, app, { ...draft, id: '' }, a);
  const builds = linkTargets(ctx, 'builds', { data: r.builds?.data ?? [] });
  const testers = linkTargets(ctx, 'betaTesters', { data: r.betaTesters?.data ?? [] });
  if (builds.some((b) => b.rels.app !== app.id))
    throw conflict('ENTITY_ERROR.RELATIONSHIP.INVALID', 'A build of another app', '/data/relationships/builds');
  const rec = ctx.store.insert(draft);
  applyGroupAttrs(rec, a);
  for (const b of builds) b.rels.betaGroups = [...new Set([...((b.rels.betaGroups as string[]) ?? []), rec.id])];
  if (testers.length) joinGroups(testers, [rec]);
  return created(ctx, rec);
};

/** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-betagroups-_id_ */
const updateGroup: WriteHandler<Schemas['BetaGroupUpdateRequest']> = (ctx) => {
  const group = mustGet(ctx, 'betaGroups', ctx.pathParams[0]!);
  const a = ctx.body.data.attributes ?? {};
  const app = ctx.store.get('apps', group.rels.app as string)!;
  checkGroupRules(ctx, app, group, a);
  if (a.publicLinkEnabled === false) {
    delete group.attributes.publicLinkId;
    delete group.attributes.publicLink;
  }
  applyGroupAttrs(group, a);
  return ok(ctx, group);
};

/** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-betagroups-_id_ */
const deleteGroup: WriteHandler<unknown> = (ctx) => {
  const group = mustGet(ctx, 'betaGroups', ctx.pathParams[0]!);
  for (const type of ['builds', 'betaTesters']) {
    for (const r of ctx.store.referencing(type, group.id)) {
      r.rels.betaGroups = ((r.rels.betaGroups as string[]) ?? []).filter((g) => g !== group.id);
    }
  }
  ctx.store.remove('betaGroups', group.id);
  return { status: 204 };
};

/**
 * Puts testers in groups. Internal groups hold App Store Connect users only, so an invited email cannot
 * join one here (Apple: add the person in Users and Access); testers and groups must share the team.
 */
export function joinGroups(testers: Rec[], groups: Rec[], pointer = '/data'): void {
  const internal = groups.find((g) => g.attributes.isInternalGroup === true);
  if (internal)
    throw conflict(
      'ENTITY_ERROR.RELATIONSHIP.INVALID',
      `'${String(internal.attributes.name)}' is an internal group: its testers are App Store Connect users, added in Users and Access`,
      pointer,
    );
  for (const t of testers) {
    t.rels.betaGroups = [...new Set([...((t.rels.betaGroups as string[]) ?? []), ...groups.map((g) => g.id)])];
    t.rels.apps = [...new Set([...((t.rels.apps as string[]) ?? []), ...groups.map((g) => g.rels.app as string)])];
  }
}

export const BETA_GROUP_WRITES: Record<string, WriteHandler> = {
  'POST /v1/betaGroups': createGroup,
  'PATCH /v1/betaGroups/{id}': updateGroup,
  'DELETE /v1/betaGroups/{id}': deleteGroup,
};
