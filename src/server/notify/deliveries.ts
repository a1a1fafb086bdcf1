import type { Transaction } from 'kysely';
import type { NotificationDelivery } from '../api/types.js';
import { isoTime, newId, type StoreDeps } from '../store/ids.js';
import { readJson } from '../store/json.js';
import type { Store } from '../store/open.js';
import type { Database, DeliveryState, NotificationDeliveriesTable } from '../store/schema.js';
import type { NotifyEvent } from './types.js';

/** One attempt as the API shows it: no URL, no secret, no response body. */
export interface AttemptView {
  attempt: number;
  statusCode: number | null;
  error: string | null;
  startedAt: string;
  endedAt: string;
}

export type DeliveryView = NotificationDelivery & { state: DeliveryState; history: AttemptView[] };

export async function insertDelivery(
  tx: Transaction<Database>,
  deps: StoreDeps,
  teamId: string,
  targetId: string,
  event: { id: string; type: string },
): Promise<string> {
  const now = isoTime(deps.clock.now());
  const id = newId('ndl', deps.randomBytes);
  await tx
    .insertInto('notification_deliveries')
    .values({
      id,
      team_id: teamId,
      target_id: targetId,
      event_id: event.id,
      event_type: event.type,
      state: 'pending',
      attempts: 0,
      last_status: null,
      last_error: null,
      next_attempt_at: now,
      created_at: now,
      updated_at: now,
      delivered_at: null,
    })
    .execute();
  return id;
}

/** The delivery with its event, for the worker. */
export async function loadDelivery(
  store: Store,
  teamId: string,
  id: string,
): Promise<{ row: NotificationDeliveriesTable; event: NotifyEvent } | undefined> {
  const row = await store.db
    .selectFrom('notification_deliveries')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const ev = await store.db
    .selectFrom('notification_events')
    .select('payload')
    .where('team_id', '=', teamId)
    .where('id', '=', row.event_id)
    .executeTakeFirstOrThrow();
  return { row, event: readJson(ev.payload, `notification event ${row.event_id}`) };
}

/**
 * Records attempt `attempt` and the delivery's new state, only if no other worker recorded it first
 * (compare-and-set on `attempts`); false when it lost.
 */
export async function recordAttempt(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  deliveryId: string,
  a: {
    attempt: number;
    statusCode: number | null;
    error: string | null;
    startedAt: number;
    state: DeliveryState;
    nextAttemptAt: number | null;
  },
): Promise<boolean> {
  const now = deps.clock.now();
  return store.db.transaction().execute(async (tx) => {
    const res = await tx
      .updateTable('notification_deliveries')
      .set({
        attempts: a.attempt,
        state: a.state,
        last_status: a.statusCode,
        last_error: a.error,
        next_attempt_at: a.nextAttemptAt === null ? null : isoTime(a.nextAttemptAt),
        updated_at: isoTime(now),
        ...(a.state === 'delivered' ? { delivered_at: isoTime(now) } : {}),
      })
      .where('team_id', '=', teamId)
      .where('id', '=', deliveryId)
      .where('attempts', '=', a.attempt - 1)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    await tx
      .insertInto('notification_attempts')
      .values({
        id: newId('nat', deps.randomBytes),
        team_id: teamId,
        delivery_id: deliveryId,
        attempt: a.attempt,
        status_code: a.statusCode,
        error: a.error,
        started_at: isoTime(a.startedAt),
        ended_at: isoTime(now),
      })
      .execute();
    return true;
  });
}

/** A team's deliveries, newest first, each with its attempts; optionally of one target. */
export async function listDeliveries(
  store: Store,
  teamId: string,
  opts: { targetId?: string; limit?: number } = {},
): Promise<DeliveryView[]> {
  let q = store.db.selectFrom('notification_deliveries').selectAll().where('team_id', '=', teamId);
  if (opts.targetId !== undefined) q = q.where('target_id', '=', opts.targetId);
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(opts.limit ?? 50, 1), 200))
    .execute();
  if (rows.length === 0) return [];
  const attempts = await store.db
    .selectFrom('notification_attempts')
    .selectAll()
    .where('team_id', '=', teamId)
    .where(
      'delivery_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('attempt')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    targetId: r.target_id,
    eventId: r.event_id,
    event: r.event_type,
    state: r.state,
    attempts: Number(r.attempts),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deliveredAt: r.delivered_at,
    history: attempts
      .filter((a) => a.delivery_id === r.id)
      .map((a) => ({
        attempt: Number(a.attempt),
        statusCode: a.status_code === null ? null : Number(a.status_code),
        error: a.error,
        startedAt: a.started_at,
        endedAt: a.ended_at,
      })),
  }));
}
