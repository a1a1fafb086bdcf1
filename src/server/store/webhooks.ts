import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from './ids.js';
import type { Store } from './open.js';
import type { WebhookEventsTable, WebhooksTable } from './schema.js';

/** An app's App Store Connect webhook; secrets are vault ids, never the secrets themselves. */
export interface WebhookRecord {
  id: string;
  teamId: string;
  appRef: string;
  keyRef: string;
  ascWebhookId: string | null;
  url: string;
  secretId: string;
  previousSecretId: string | null;
  /** Epoch ms until which the previous secret is still accepted. */
  previousUntil: number | null;
  lastEventAt: string | null;
}

export interface WebhookEventRecord {
  id: string;
  webhookRef: string;
  teamId: string;
  appRef: string;
  eventId: string;
  eventType: string;
  resourceType: string | null;
  resourceId: string | null;
  state: string | null;
  receivedAt: string;
  handledAt: string | null;
}

function recordOf(r: WebhooksTable): WebhookRecord {
  return {
    id: r.id,
    teamId: r.team_id,
    appRef: r.app_ref,
    keyRef: r.key_ref,
    ascWebhookId: r.asc_webhook_id,
    url: r.url,
    secretId: r.secret_id,
    previousSecretId: r.previous_secret_id,
    previousUntil: r.previous_until ? Date.parse(r.previous_until) : null,
    lastEventAt: r.last_event_at,
  };
}

function eventOf(r: WebhookEventsTable): WebhookEventRecord {
  return {
    id: r.id,
    webhookRef: r.webhook_ref,
    teamId: r.team_id,
    appRef: r.app_ref,
    eventId: r.event_id,
    eventType: r.event_type,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    state: r.state,
    receivedAt: r.received_at,
    handledAt: r.handled_at,
  };
}

/** A new webhook id: unguessable (128 random bits), as it is the only thing in the URL Apple posts to. */
export function newWebhookId(deps: StoreDeps): string {
  return newId('whk', deps.randomBytes);
}

export async function insertWebhook(
  store: Store,
  deps: StoreDeps,
  w: { id: string; teamId: string; appRef: string; keyRef: string; url: string; secretId: string },
): Promise<WebhookRecord> {
  const now = isoTime(deps.clock.now());
  const row: WebhooksTable = {
    id: w.id,
    team_id: w.teamId,
    app_ref: w.appRef,
    key_ref: w.keyRef,
    asc_webhook_id: null,
    url: w.url,
    secret_id: w.secretId,
    previous_secret_id: null,
    previous_until: null,
    created_at: now,
    updated_at: now,
    last_event_at: null,
  };
  await store.db.insertInto('webhooks').values(row).execute();
  return recordOf(row);
}

/** By our id alone: the receiving route has no team until the webhook names it. */
export async function findWebhook(store: Store, id: string): Promise<WebhookRecord | undefined> {
  const r = await store.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? recordOf(r) : undefined;
}

export async function webhookOfApp(store: Store, teamId: string, appRef: string): Promise<WebhookRecord | undefined> {
  const r = await store.db
    .selectFrom('webhooks')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('app_ref', '=', appRef)
    .executeTakeFirst();
  return r ? recordOf(r) : undefined;
}

export async function getWebhookOfApp(store: Store, teamId: string, appRef: string): Promise<WebhookRecord> {
  const w = await webhookOfApp(store, teamId, appRef);
  if (!w) throw new AscendError('RESOURCE_NOT_FOUND', `app ${appRef} has no webhook in this team`);
  return w;
}

export async function listWebhooks(
  store: Store,
  teamId: string,
  o: { keyRef?: string } = {},
): Promise<WebhookRecord[]> {
  let q = store.db.selectFrom('webhooks').selectAll().where('team_id', '=', teamId);
  if (o.keyRef) q = q.where('key_ref', '=', o.keyRef);
  return (await q.orderBy('created_at').execute()).map(recordOf);
}

export async function updateWebhook(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  id: string,
  patch: Partial<
    Pick<WebhookRecord, 'ascWebhookId' | 'url' | 'secretId' | 'previousSecretId' | 'previousUntil' | 'keyRef'>
  >,
): Promise<void> {
  await store.db
    .updateTable('webhooks')
    .set({
      ...(patch.ascWebhookId !== undefined ? { asc_webhook_id: patch.ascWebhookId } : {}),
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.keyRef !== undefined ? { key_ref: patch.keyRef } : {}),
      ...(patch.secretId !== undefined ? { secret_id: patch.secretId } : {}),
      ...(patch.previousSecretId !== undefined ? { previous_secret_id: patch.previousSecretId } : {}),
      ...(patch.previousUntil !== undefined
        ? { previous_until: patch.previousUntil === null ? null : isoTime(patch.previousUntil) }
        : {}),
      updated_at: isoTime(deps.clock.now()),
    })
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .execute();
}

export async function deleteWebhook(store: Store, teamId: string, id: string): Promise<void> {
  await store.db.deleteFrom('webhooks').where('team_id', '=', teamId).where('id', '=', id).execute();
}

/**
 * Records an accepted delivery once: a second delivery of the same event (Apple's redelivery, a duplicate,
 * a replay) inserts nothing and answers undefined, so it starts no second job.
 */
export async function recordWebhookEvent(
  store: Store,
  deps: StoreDeps,
  w: WebhookRecord,
  n: { eventId: string; eventType: string; resource: { type: string; id: string } | null },
): Promise<WebhookEventRecord | undefined> {
  const now = isoTime(deps.clock.now());
  const row: WebhookEventsTable = {
    id: newId('whe', deps.randomBytes),
    webhook_ref: w.id,
    team_id: w.teamId,
    app_ref: w.appRef,
    event_id: n.eventId,
    event_type: n.eventType,
    resource_type: n.resource?.type ?? null,
    resource_id: n.resource?.id ?? null,
    state: null,
    received_at: now,
    handled_at: null,
  };
  const r = await store.db
    .insertInto('webhook_events')
    .values(row)
    .onConflict((oc) => oc.columns(['webhook_ref', 'event_id']).doNothing())
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) return undefined;
  await store.db.updateTable('webhooks').set({ last_event_at: now }).where('id', '=', w.id).execute();
  return eventOf(row);
}

export async function getWebhookEvent(
  store: Store,
  teamId: string,
  id: string,
): Promise<WebhookEventRecord | undefined> {
  const r = await store.db
    .selectFrom('webhook_events')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? eventOf(r) : undefined;
}

export async function listWebhookEvents(
  store: Store,
  teamId: string,
  webhookRef: string,
): Promise<WebhookEventRecord[]> {
  const rows = await store.db
    .selectFrom('webhook_events')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('webhook_ref', '=', webhookRef)
    .orderBy('received_at')
    .orderBy('id')
    .execute();
  return rows.map(eventOf);
}

/** The resource was re-read: its state is kept, and waiters in any process see `handled_at`. */
export async function markWebhookEventHandled(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  id: string,
  state: string | null,
): Promise<void> {
  await store.db
    .updateTable('webhook_events')
    .set({ state, handled_at: isoTime(deps.clock.now()) })
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .execute();
}

/** True when an event for one of the team's apps (by bundle id) was handled at or after `since` (epoch ms). */
export async function eventHandledSince(
  store: Store,
  teamId: string,
  bundleId: string,
  since: number,
): Promise<boolean> {
  const r = await store.db
    .selectFrom('webhook_events')
    .innerJoin('apps', 'apps.id', 'webhook_events.app_ref')
    .select('webhook_events.id')
    .where('webhook_events.team_id', '=', teamId)
    .where('apps.bundle_id', '=', bundleId)
    .where('webhook_events.handled_at', '>=', isoTime(since))
    .limit(1)
    .executeTakeFirst();
  return Boolean(r);
}

/** Drops a webhook's events received before `before` (epoch ms): dedup needs days, not forever. */
export async function pruneWebhookEvents(store: Store, webhookRef: string, before: number): Promise<void> {
  await store.db
    .deleteFrom('webhook_events')
    .where('webhook_ref', '=', webhookRef)
    .where('received_at', '<', isoTime(before))
    .execute();
}
