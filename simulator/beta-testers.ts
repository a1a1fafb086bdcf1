import { joinGroups } from './beta-groups.js';
import { conflict } from './errors.js';
import { mustGet } from './reads.js';
import type { Rec } from './store.js';
import { created, type Schemas, type WriteCtx, type WriteHandler } from './write-helpers.js';
import { linkTargets } from './writes.js';

/** TestFlight's ceiling on external testers per app. */
export const EXTERNAL_TESTERS_PER_APP = 10_000;

type Linkages = { data: { type: string; id: string }[] };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function checkCapacity(ctx: WriteCtx, groups: Rec[], adding: number): void {
  for (const appId of new Set(groups.map((g) => g.rels.app as string))) {
    const count = ctx.store.list('betaTesters').filter((t) => ((t.rels.apps as string[]) ?? []).includes(appId)).length;
    if (count + adding > EXTERNAL_TESTERS_PER_APP)
      throw conflict('STATE_ERROR', `The app already has ${EXTERNAL_TESTERS_PER_APP} external testers`);
  }
}

/**
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betatesters
 * Invites a tester by email into external groups (or to builds); an email already invited on the team is
 * a 409 on `email`, so a client adds the existing tester to groups instead.
 */
const createTester: WriteHandler<Schemas['BetaTesterCreateRequest']> = (ctx) => {
  const { attributes: a, relationships: r } = ctx.body.data;
  if (!EMAIL.test(a.email))
    throw conflict('ENTITY_ERROR.ATTRIBUTE.INVALID', `'${a.email}' is not a valid email`, '/data/attributes/email');
  const email = a.email.toLowerCase();
  if (ctx.store.list('betaTesters').some((t) => ctx.visible(t) && t.attributes.email === email))
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE',
      `A tester with the email '${email}' already exists`,
      '/data/attributes/email',
    );
  const groups = linkTargets(ctx, 'betaGroups', { data: r?.betaGroups?.data ?? [] });
  const builds = linkTargets(ctx, 'builds', { data: r?.builds?.data ?? [] });
  if (!groups.length && !builds.length)
    throw conflict(
      'ENTITY_ERROR.RELATIONSHIP.REQUIRED',
      'A tester is invited to at least one beta group or build',
      '/data/relationships/betaGroups',
    );
  checkCapacity(ctx, groups, 1);
  const draft: Rec = {
    type: 'betaTesters',
    id: '',
    teamId: ctx.teamId,
    attributes: {
      firstName: a.firstName ?? undefined,
      lastName: a.lastName ?? undefined,
      email,
      inviteType: 'EMAIL',
      state: 'INVITED',
    },
    rels: { apps: [], betaGroups: [], builds: builds.map((b) => b.id) },
  };
  joinGroups([draft], groups, '/data/relationships/betaGroups');
  for (const b of builds) draft.rels.apps = [...new Set([...(draft.rels.apps as string[]), b.rels.app as string])];
  for (const k of ['firstName', 'lastName']) if (draft.attributes[k] === undefined) delete draft.attributes[k];
  return created(ctx, ctx.store.insert({ ...draft, id: undefined }));
};

/** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-betatesters-_id_ */
const deleteTester: WriteHandler<unknown> = (ctx) => {
  const t = mustGet(ctx, 'betaTesters', ctx.pathParams[0]!);
  ctx.store.remove('betaTesters', t.id);
  return { status: 204 };
};

/** Group ↔ tester linkage edits from either side, 204; internal groups refuse invited testers. */
function editMembership(owner: 'betaGroups' | 'betaTesters', add: boolean): WriteHandler<Linkages> {
  return (ctx) => {
    const self = mustGet(ctx, owner, ctx.pathParams[0]!);
    const others = linkTargets(ctx, owner === 'betaGroups' ? 'betaTesters' : 'betaGroups', ctx.body);
    const [testers, groups] = owner === 'betaGroups' ? [others, [self]] : [[self], others];
    if (add) {
      checkCapacity(
        ctx,
        groups,
        testers.filter((t) => !groups.every((g) => ((t.rels.betaGroups as string[]) ?? []).includes(g.id))).length,
      );
      joinGroups(testers, groups);
    } else {
      const drop = new Set(groups.map((g) => g.id));
      for (const t of testers) t.rels.betaGroups = ((t.rels.betaGroups as string[]) ?? []).filter((g) => !drop.has(g));
    }
    return { status: 204 };
  };
}

/**
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betatesters-_id_-relationships-builds
 * Individual access to builds (204); the build must be visible, and the tester gains its app.
 */
function editBuilds(add: boolean): WriteHandler<Linkages> {
  return (ctx) => {
    const t = mustGet(ctx, 'betaTesters', ctx.pathParams[0]!);
    const builds = linkTargets(ctx, 'builds', ctx.body);
    const ids = new Set(builds.map((b) => b.id));
    const current = (t.rels.builds as string[]) ?? [];
    t.rels.builds = add ? [...new Set([...current, ...ids])] : current.filter((b) => !ids.has(b));
    if (add)
      t.rels.apps = [...new Set([...((t.rels.apps as string[]) ?? []), ...builds.map((b) => b.rels.app as string)])];
    return { status: 204 };
  };
}

/**
 * https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-betatesters-_id_-relationships-apps
 * Removes the tester's access to apps: from their groups and builds too (204).
 */
const removeApps: WriteHandler<Linkages> = (ctx) => {
  const t = mustGet(ctx, 'betaTesters', ctx.pathParams[0]!);
  const apps = new Set(linkTargets(ctx, 'apps', ctx.body).map((a) => a.id));
  const groupApp = (id: string) => ctx.store.get('betaGroups', id)?.rels.app as string | undefined;
  const buildApp = (id: string) => ctx.store.get('builds', id)?.rels.app as string | undefined;
  t.rels.apps = ((t.rels.apps as string[]) ?? []).filter((a) => !apps.has(a));
  t.rels.betaGroups = ((t.rels.betaGroups as string[]) ?? []).filter((g) => !apps.has(groupApp(g) ?? ''));
  t.rels.builds = ((t.rels.builds as string[]) ?? []).filter((b) => !apps.has(buildApp(b) ?? ''));
  return { status: 204 };
};

export const BETA_TESTER_WRITES: Record<string, WriteHandler> = {
  'POST /v1/betaTesters/{id}/relationships/builds': editBuilds(true),
  'DELETE /v1/betaTesters/{id}/relationships/builds': editBuilds(false),
  'DELETE /v1/betaTesters/{id}/relationships/apps': removeApps,
  'POST /v1/betaTesters': createTester,
  'DELETE /v1/betaTesters/{id}': deleteTester,
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betagroups-_id_-relationships-betatesters */
  'POST /v1/betaGroups/{id}/relationships/betaTesters': editMembership('betaGroups', true),
  'DELETE /v1/betaGroups/{id}/relationships/betaTesters': editMembership('betaGroups', false),
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betatesters-_id_-relationships-betagroups */
  'POST /v1/betaTesters/{id}/relationships/betaGroups': editMembership('betaTesters', true),
  'DELETE /v1/betaTesters/{id}/relationships/betaGroups': editMembership('betaTesters', false),
};
