import { AscendError } from '../../core/errors.js';
import type { NotificationTarget } from '../api/types.js';
import { base32, isoTime, newId, type StoreDeps } from '../store/ids.js';
import { readJson } from '../store/json.js';
import { isUniqueViolation, type Store } from '../store/open.js';
import type { NotificationTargetsTable } from '../store/schema.js';
import type { Vault } from '../vault/vault.js';
import { type AddressPolicy, hostOf, validateTargetUrl } from './address-policy.js';
import { NOTIFY_EVENTS, type NotifyEventType, type TargetKind } from './types.js';

/** A target as every API answer shows it: no URL path or query, no secret. */
export interface TargetView extends NotificationTarget {
  events: NotifyEventType[];
}

export interface NewTarget {
  kind: TargetKind;
  name: string;
  url: string;
  /** Generic webhooks: the signing secret; made by the server when absent. Slack: none. */
  secret?: string;
  /** Default: every event. */
  events?: string[];
}

/** What a delivery needs; only the worker holds it, in memory, for one attempt. */
export interface OpenedTarget extends TargetView {
  url: string;
  secret: string | null;
}

const bad = (message: string) =>
  new AscendError('NOTIFY_TARGET_INVALID', message, {
    remedy: 'Check the target against the Notifications section of docs/SERVER.md.',
  });

function viewOf(r: NotificationTargetsTable): TargetView {
  return {
    id: r.id,
    kind: r.kind as TargetKind,
    name: r.name,
    events: readJson(r.events, `events of target ${r.id}`),
    host: r.host,
    createdAt: r.created_at,
  };
}

function validateEvents(events: string[] | undefined): NotifyEventType[] {
  if (events === undefined) return NOTIFY_EVENTS.filter((e) => e !== 'test');
  const unknown = events.filter((e) => !(NOTIFY_EVENTS as readonly string[]).includes(e));
  if (unknown.length > 0) throw bad(`unknown event ${JSON.stringify(unknown[0])}; known: ${NOTIFY_EVENTS.join(', ')}`);
  if (events.length === 0) throw bad('a target needs at least one event');
  return [...new Set(events)] as NotifyEventType[];
}

/**
 * Validates a target and seals its URL and secret in the vault (they carry the credential: a Slack webhook URL
 * is itself the secret). Answers the view and, for a generic webhook, the secret — the only time it is shown.
 */
export async function addTarget(
  store: Store,
  vault: Vault,
  deps: StoreDeps,
  policy: AddressPolicy,
  teamId: string,
  createdBy: string | null,
  input: NewTarget,
): Promise<{ target: TargetView; secret: string | null }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name))
    throw bad('the name must be 1–64 characters without control characters');
  const url = validateTargetUrl(input.url, policy);
  const events = validateEvents(input.events);
  let secret: string | null = null;
  if (input.kind === 'webhook') {
    secret = input.secret ?? `whsec_${base32(deps.randomBytes(32))}`;
    if (secret.length < 16 || secret.length > 256) throw bad('the secret must be 16–256 characters');
  } else if (input.secret !== undefined) throw bad('a Slack target has no secret (its URL is the secret)');
  const secretId = await vault.seal(teamId, 'notify-secret', JSON.stringify({ url: url.href, secret }));
  const row: NotificationTargetsTable = {
    id: newId('ntg', deps.randomBytes),
    team_id: teamId,
    kind: input.kind,
    name,
    events: JSON.stringify(events),
    host: hostOf(url),
    secret_id: secretId,
    created_by: createdBy,
    created_at: isoTime(deps.clock.now()),
  };
  try {
    await store.db.insertInto('notification_targets').values(row).execute();
  } catch (err) {
    await vault.delete(teamId, secretId);
    if (isUniqueViolation(err))
      throw new AscendError('RESOURCE_EXISTS', `a notification target named "${name}" exists in this team`);
    throw err;
  }
  return { target: viewOf(row), secret };
}

export async function listTargets(store: Store, teamId: string): Promise<TargetView[]> {
  const rows = await store.db
    .selectFrom('notification_targets')
    .selectAll()
    .where('team_id', '=', teamId)
    .orderBy('name')
    .execute();
  return rows.map(viewOf);
}

async function rowOf(store: Store, teamId: string, id: string): Promise<NotificationTargetsTable> {
  const r = await store.db
    .selectFrom('notification_targets')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r) throw new AscendError('RESOURCE_NOT_FOUND', `notification target ${id} was not found in this team`);
  return r;
}

export async function getTarget(store: Store, teamId: string, id: string): Promise<TargetView> {
  return viewOf(await rowOf(store, teamId, id));
}

/** The target with its URL and secret, for the delivery worker only. */
export async function openTarget(store: Store, vault: Vault, teamId: string, id: string): Promise<OpenedTarget> {
  const r = await rowOf(store, teamId, id);
  const sealed = JSON.parse((await vault.open(teamId, r.secret_id)).toString('utf8')) as {
    url: string;
    secret: string | null;
  };
  return { ...viewOf(r), url: sealed.url, secret: sealed.secret };
}

/** Removes the target, its sealed URL and secret, and (cascade) its deliveries. */
export async function removeTarget(store: Store, vault: Vault, teamId: string, id: string): Promise<void> {
  const r = await rowOf(store, teamId, id);
  await store.db.deleteFrom('notification_targets').where('team_id', '=', teamId).where('id', '=', id).execute();
  await vault.delete(teamId, r.secret_id);
}

/** The team's targets that want this event type. */
export async function targetsFor(store: Store, teamId: string, type: NotifyEventType): Promise<TargetView[]> {
  return (await listTargets(store, teamId)).filter((t) => t.events.includes(type));
}
