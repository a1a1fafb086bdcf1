import type { JobContext, JobHandler } from '../queue/types.js';
import type { StoreDeps } from '../store/ids.js';
import { openKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { findWebhook, getWebhookEvent, markWebhookEventHandled, pruneWebhookEvents } from '../store/webhooks.js';
import type { Vault } from '../vault/vault.js';
import type { AppleWebhooks } from '../webhooks/types.js';
import { type WakeBus, wakeKey } from '../webhooks/wake.js';

export const WEBHOOK_JOB = 'webhook-event';
/**
 * How long an event id is remembered for dedup. Apple's retries of a delivery span hours (the simulator's
 * schedule, 1 min to 6 h); an older duplicate is handled again, which is harmless: it only re-reads Apple.
 */
export const EVENT_MEMORY_MS = 30 * 86_400_000;
export interface WebhookJobPayload {
  teamId: string;
  eventRef: string;
}

export interface WebhookJobEnv {
  store: Store;
  vault: Vault;
  deps: StoreDeps;
  /** Re-reads the resource an event names. Absent: events only wake (the waiting poll reads Apple itself). */
  apple?: Pick<AppleWebhooks, 'readState'>;
  bus: WakeBus;
  /** Told when the re-read fails; the event still wakes its waiters. */
  onReadError?: (eventRef: string, err: unknown) => void;
}

/**
 * Handles one accepted delivery: the payload is a notification only (app-store-connect.md (i)), so the
 * resource is re-read through the API and its state recorded; then deploys waiting on the app are woken,
 * in this process through the bus and in others through `handled_at`. Runs at most once per event: a
 * duplicate delivery never got a job, and a job run again (lease passed) finds the event handled.
 */
async function handle(env: WebhookJobEnv, job: JobContext): Promise<void> {
  const { teamId, eventRef } = job.payload as WebhookJobPayload;
  const ev = await getWebhookEvent(env.store, teamId, eventRef);
  if (!ev || ev.handledAt) return;
  const hook = await findWebhook(env.store, ev.webhookRef);
  const app = await env.store.db
    .selectFrom('apps')
    .select('bundle_id')
    .where('team_id', '=', teamId)
    .where('id', '=', ev.appRef)
    .executeTakeFirst();
  let state: string | null = null;
  if (hook && env.apple && ev.resourceType && ev.resourceId) {
    try {
      const key = await openKey(env.store, env.vault, teamId, hook.keyRef);
      state = await env.apple.readState(key, { type: ev.resourceType, id: ev.resourceId });
    } catch (err) {
      // Apple's answer is not needed to wake: the waiting poll reads the resource itself, with its retries.
      env.onReadError?.(eventRef, err);
    }
  }
  await markWebhookEventHandled(env.store, env.deps, teamId, ev.id, state);
  await pruneWebhookEvents(env.store, ev.webhookRef, env.deps.clock.now() - EVENT_MEMORY_MS);
  if (app) env.bus.wake(wakeKey(teamId, app.bundle_id));
}

export function webhookJobHandler(env: WebhookJobEnv): JobHandler {
  return (job) => handle(env, job);
}
