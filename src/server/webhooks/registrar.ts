import { AscendError } from '../../core/errors.js';
import type { ApiKey } from '../../credentials/types.js';
import type { StoreDeps } from '../store/ids.js';
import { openKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import {
  deleteWebhook,
  findWebhook,
  getWebhookOfApp,
  insertWebhook,
  listWebhooks,
  newWebhookId,
  updateWebhook,
  type WebhookRecord,
  webhookOfApp,
} from '../store/webhooks.js';
import type { Vault } from '../vault/vault.js';
import { EVENT_TYPES } from './payload.js';
import type { AppleWebhooks } from './types.js';

export interface RegistrarEnv {
  store: Store;
  vault: Vault;
  deps: StoreDeps;
  apple: AppleWebhooks;
  /** `--public-url`: where Apple reaches this server. */
  publicUrl: string;
  /** How long the previous secret is still accepted after a rotation (Apple may be retrying deliveries). */
  graceMs: number;
}

export interface SyncSummary {
  created: number;
  recreated: number;
  updated: number;
  removed: number;
}

const PATH = '/hooks/apple/';
const prefixOf = (publicUrl: string) => `${publicUrl.replace(/\/+$/, '')}${PATH}`;
export const hookUrl = (publicUrl: string, id: string) => `${prefixOf(publicUrl)}${id}`;

/** A new secret: 256 random bits as base64url text (Apple takes a string; its UTF-8 bytes key the HMAC). */
function newSecret(deps: StoreDeps): string {
  return deps.randomBytes(32).toString('base64url');
}

const sameTypes = (a: readonly string[]) => a.length === EVENT_TYPES.length && EVENT_TYPES.every((t) => a.includes(t));

interface AppRow {
  id: string;
  asc_app_id: string;
  key_ref: string | null;
}

/**
 * Makes Apple hold exactly one webhook of ours for the app, pointing at our URL for the three event types:
 * created when missing (also when someone deleted it at Apple: it is re-created with the secret the vault
 * holds), corrected when changed, and any other webhook of ours for the app (an earlier row's) deleted. The
 * row is written before Apple's create, so a crash in between is healed by the next sync, which finds the
 * webhook by its URL (unguessable: only our create can have made it).
 */
async function ensureOne(env: RegistrarEnv, key: ApiKey, teamId: string, app: AppRow, s: SyncSummary): Promise<void> {
  let row = await webhookOfApp(env.store, teamId, app.id);
  if (!row) {
    const id = newWebhookId(env.deps);
    const secretId = await env.vault.seal(teamId, 'webhook-secret', newSecret(env.deps));
    row = await insertWebhook(env.store, env.deps, {
      id,
      teamId,
      appRef: app.id,
      keyRef: app.key_ref!,
      url: hookUrl(env.publicUrl, id),
      secretId,
    });
  }
  const url = hookUrl(env.publicUrl, row.id);
  if (row.url !== url || row.keyRef !== app.key_ref)
    await updateWebhook(env.store, env.deps, teamId, row.id, { url, keyRef: app.key_ref! });
  const listed = await env.apple.list(key, app.asc_app_id);
  const ours =
    listed.find((w) => row.ascWebhookId !== null && w.id === row.ascWebhookId) ??
    listed.find((w) => w.url === url || w.url === row.url);
  for (const stray of listed) {
    if (stray === ours || !stray.url.startsWith(prefixOf(env.publicUrl))) continue;
    // Another team of this server may hold a key for the same Apple app and its own webhook: only a hook
    // no row knows any more, or another one for this very app and team, is ours to remove.
    const owner = await findWebhook(env.store, stray.url.slice(prefixOf(env.publicUrl).length));
    if (owner && (owner.teamId !== teamId || owner.appRef !== app.id)) continue;
    await env.apple.delete(key, stray.id);
    s.removed++;
  }
  if (!ours) {
    const secret = (await env.vault.open(teamId, row.secretId)).toString('utf8');
    const made = await env.apple.create(key, {
      ascAppId: app.asc_app_id,
      name: `ascend ${row.id}`.slice(0, 64),
      url,
      secret,
      eventTypes: EVENT_TYPES,
    });
    await updateWebhook(env.store, env.deps, teamId, row.id, { ascWebhookId: made.id });
    if (row.ascWebhookId) s.recreated++;
    else s.created++;
    return;
  }
  if (ours.url !== url || !ours.enabled || !sameTypes(ours.eventTypes)) {
    await env.apple.update(key, ours.id, { url, enabled: true, eventTypes: EVENT_TYPES });
    s.updated++;
  }
  if (ours.id !== row.ascWebhookId) await updateWebhook(env.store, env.deps, teamId, row.id, { ascWebhookId: ours.id });
}

/** Deletes the webhook at Apple (when a key can still do it) and here, with its secrets. */
async function removeOne(
  env: Pick<RegistrarEnv, 'store' | 'vault'> & { apple?: AppleWebhooks | undefined },
  key: ApiKey | undefined,
  w: WebhookRecord,
): Promise<void> {
  if (key && w.ascWebhookId && env.apple) await env.apple.delete(key, w.ascWebhookId);
  await deleteWebhook(env.store, w.teamId, w.id);
  await env.vault.delete(w.teamId, w.secretId);
  if (w.previousSecretId) await env.vault.delete(w.teamId, w.previousSecretId);
}

/**
 * After the key's apps were synced: one webhook per app the key sees (`visible`, Apple's app ids), and
 * none for an app of this key that Apple no longer lists (the app went away, or the key lost access).
 */
export async function syncWebhooks(
  env: RegistrarEnv,
  teamId: string,
  keyRef: string,
  visible: readonly string[],
): Promise<SyncSummary> {
  const s: SyncSummary = { created: 0, recreated: 0, updated: 0, removed: 0 };
  const key = await openKey(env.store, env.vault, teamId, keyRef);
  const apps = await env.store.db
    .selectFrom('apps')
    .select(['id', 'asc_app_id', 'key_ref'])
    .where('team_id', '=', teamId)
    .where('key_ref', '=', keyRef)
    .orderBy('asc_app_id')
    .execute();
  for (const app of apps.filter((a) => visible.includes(a.asc_app_id))) await ensureOne(env, key, teamId, app, s);
  const gone = new Set(apps.filter((a) => !visible.includes(a.asc_app_id)).map((a) => a.id));
  for (const w of await listWebhooks(env.store, teamId, { keyRef })) {
    if (!gone.has(w.appRef)) continue;
    await removeOne(env, key, w);
    s.removed++;
  }
  return s;
}

/**
 * Before a key is removed: its webhooks are deleted at Apple while the key still works, then here. A key
 * Apple already refuses cannot delete them; they are removed here all the same (Apple's deliveries to an
 * unknown id then answer 404), and the failures are counted for the caller to report.
 */
export async function removeWebhooksOfKey(
  env: Pick<RegistrarEnv, 'store' | 'vault'> & { apple?: AppleWebhooks | undefined },
  teamId: string,
  keyRef: string,
): Promise<{ removed: number; failedAtApple: number }> {
  let removed = 0;
  let failedAtApple = 0;
  const key = await openKey(env.store, env.vault, teamId, keyRef);
  for (const w of await listWebhooks(env.store, teamId, { keyRef })) {
    try {
      if (w.ascWebhookId && env.apple) await env.apple.delete(key, w.ascWebhookId);
      else if (w.ascWebhookId) failedAtApple++;
    } catch {
      failedAtApple++;
    }
    await removeOne(env, undefined, w);
    removed++;
  }
  return { removed, failedAtApple };
}

/**
 * A new secret for the app's webhook: stored first as current with the old one as previous (so deliveries
 * signed with either pass during the change), then sent to Apple; if Apple refuses, the row is put back as
 * it was. The previous secret is accepted until `graceMs` from now; an older previous one is dropped.
 */
export async function rotateWebhookSecret(
  env: RegistrarEnv,
  teamId: string,
  appRef: string,
): Promise<{ webhookId: string; previousValidUntil: number }> {
  const row = await getWebhookOfApp(env.store, teamId, appRef);
  if (!row.ascWebhookId)
    throw new AscendError('WEBHOOK_NOT_REGISTERED', `app ${appRef}'s webhook is not registered at App Store Connect`);
  const ascWebhookId = row.ascWebhookId;
  const key = await openKey(env.store, env.vault, teamId, row.keyRef);
  const secret = newSecret(env.deps);
  const secretId = await env.vault.seal(teamId, 'webhook-secret', secret);
  const previousValidUntil = env.deps.clock.now() + env.graceMs;
  await updateWebhook(env.store, env.deps, teamId, row.id, {
    secretId,
    previousSecretId: row.secretId,
    previousUntil: previousValidUntil,
  });
  try {
    await env.apple.update(key, ascWebhookId, { secret });
  } catch (err) {
    await updateWebhook(env.store, env.deps, teamId, row.id, {
      secretId: row.secretId,
      previousSecretId: row.previousSecretId,
      previousUntil: row.previousUntil,
    });
    await env.vault.delete(teamId, secretId);
    throw err;
  }
  if (row.previousSecretId) await env.vault.delete(teamId, row.previousSecretId);
  return { webhookId: row.id, previousValidUntil };
}
