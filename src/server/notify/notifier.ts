import type { JobQueue } from '../queue/types.js';
import { isoTime, newId, type StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { insertDelivery } from './deliveries.js';
import { getTarget, targetsFor } from './targets.js';
import type { AlertFacts, DeployFacts, NotifyEvent, NotifyEventType } from './types.js';

export const NOTIFY_JOB = 'notify';
export interface NotifyJobPayload {
  teamId: string;
  deliveryId: string;
  /** The attempt this job makes (1 on the first). */
  attempt: number;
}

/** How notifications reach the queue: one job per delivery attempt, ids only. */
export type EnqueueNotify = (payload: NotifyJobPayload, runAt?: number) => Promise<unknown>;

/** Each delivery attempt is a job; maxAttempts 2 only covers a worker dying mid-attempt (the handler retries). */
export function notifyEnqueuer(queue: Pick<JobQueue, 'enqueue'>): EnqueueNotify {
  return (payload, runAt) =>
    queue.enqueue(NOTIFY_JOB, payload, { maxAttempts: 2, ...(runAt === undefined ? {} : { runAt }) });
}

export interface EmitInput {
  type: NotifyEventType;
  /**
   * Names the happening, not the call: the same key twice is one event (a resumed deploy reporting a step
   * again, a check run twice), so a team hears about it once.
   */
  dedupKey: string;
  deploy?: DeployFacts;
  alert?: AlertFacts;
}

/**
 * The one way anything tells the team something: stores the event (once per dedup key) and a delivery per
 * target that wants it, then enqueues each delivery as a job, so sending never blocks the caller and survives
 * a restart. Returns the delivery ids (none when the event was already known or nobody wants it).
 */
export class Notifier {
  constructor(
    private readonly store: Store,
    private readonly deps: StoreDeps,
    private readonly enqueue: EnqueueNotify,
  ) {}

  async emit(teamId: string, input: EmitInput): Promise<string[]> {
    const targets = await targetsFor(this.store, teamId, input.type);
    const ids = await this.store.db.transaction().execute(async (tx) => {
      const team = await tx.selectFrom('teams').select('name').where('id', '=', teamId).executeTakeFirstOrThrow();
      const event: NotifyEvent = {
        id: newId('nev', this.deps.randomBytes),
        type: input.type,
        createdAt: isoTime(this.deps.clock.now()),
        team: { id: teamId, name: team.name },
        ...(input.deploy ? { deploy: input.deploy } : {}),
        ...(input.alert ? { alert: input.alert } : {}),
      };
      const inserted = await tx
        .insertInto('notification_events')
        .values({
          id: event.id,
          team_id: teamId,
          type: event.type,
          dedup_key: input.dedupKey,
          payload: JSON.stringify(event),
          created_at: event.createdAt,
        })
        .onConflict((oc) => oc.columns(['team_id', 'dedup_key']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) return [];
      const out: string[] = [];
      for (const t of targets) out.push(await insertDelivery(tx, this.deps, teamId, t.id, event));
      return out;
    });
    for (const deliveryId of ids) await this.enqueue({ teamId, deliveryId, attempt: 1 });
    return ids;
  }

  /** The "send test" action: one `test` event to one target, whatever it subscribes to. */
  async sendTest(teamId: string, targetId: string): Promise<string> {
    const target = await getTarget(this.store, teamId, targetId);
    const id = await this.store.db.transaction().execute(async (tx) => {
      const team = await tx.selectFrom('teams').select('name').where('id', '=', teamId).executeTakeFirstOrThrow();
      const event: NotifyEvent = {
        id: newId('nev', this.deps.randomBytes),
        type: 'test',
        createdAt: isoTime(this.deps.clock.now()),
        team: { id: teamId, name: team.name },
      };
      await tx
        .insertInto('notification_events')
        .values({
          id: event.id,
          team_id: teamId,
          type: 'test',
          dedup_key: `test:${event.id}`,
          payload: JSON.stringify(event),
          created_at: event.createdAt,
        })
        .execute();
      return insertDelivery(tx, this.deps, teamId, target.id, event);
    });
    await this.enqueue({ teamId, deliveryId: id, attempt: 1 });
    return id;
  }
}

/**
 * At start: a pending delivery with no job waiting for it lost its job (the process stopped between storing
 * the event and enqueueing it); queue its next attempt again. The queue says which jobs still live.
 */
export async function requeueOrphanedDeliveries(
  store: Store,
  queue: Pick<JobQueue, 'livePayloads'>,
  enqueue: EnqueueNotify,
): Promise<number> {
  const jobs = (await queue.livePayloads(NOTIFY_JOB)) as NotifyJobPayload[];
  const waiting = new Set(jobs.map((p) => p.deliveryId));
  const pending = await store.db
    .selectFrom('notification_deliveries')
    .select(['id', 'team_id', 'attempts', 'next_attempt_at'])
    .where('state', '=', 'pending')
    .execute();
  let n = 0;
  for (const d of pending) {
    if (waiting.has(d.id)) continue;
    const runAt = d.next_attempt_at ? Date.parse(d.next_attempt_at) : undefined;
    await enqueue({ teamId: d.team_id, deliveryId: d.id, attempt: Number(d.attempts) + 1 }, runAt);
    n++;
  }
  return n;
}
