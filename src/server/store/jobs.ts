import type { Kysely } from 'kysely';
import { isoTime, newId, type StoreDeps } from './ids.js';
import { readJson } from './json.js';
import type { Store } from './open.js';
import type { Database, JobState, JobsTable } from './schema.js';

/**
 * The jobs table behind the embedded queue (DESIGN §2 queue/): claim with a lease, renew it while working,
 * release by completing or failing. A job whose worker died is claimed again once its lease passes, so
 * every step a job runs must be idempotent (graphile-worker#169: a lease shorter than the job runs it twice).
 */
export interface JobRecord {
  id: string;
  kind: string;
  payload: unknown;
  state: JobState;
  runAt: string;
  leaseUntil: string | null;
  attempts: number;
  maxAttempts: number;
  worker: string | null;
  lastError: string | null;
}

function recordOf(r: JobsTable): JobRecord {
  return {
    id: r.id,
    kind: r.kind,
    payload: readJson(r.payload, `payload of job ${r.id}`),
    state: r.state,
    runAt: r.run_at,
    leaseUntil: r.lease_until,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    worker: r.worker,
    lastError: r.last_error,
  };
}

export async function enqueueJob(
  store: Store,
  deps: StoreDeps,
  input: { kind: string; payload: unknown; runAt?: number; maxAttempts?: number },
): Promise<JobRecord> {
  const now = deps.clock.now();
  const row: JobsTable = {
    id: newId('job', deps.randomBytes),
    kind: input.kind,
    payload: JSON.stringify(input.payload),
    state: 'queued',
    run_at: isoTime(input.runAt ?? now),
    lease_until: null,
    attempts: 0,
    max_attempts: input.maxAttempts ?? 3,
    worker: null,
    last_error: null,
    created_at: isoTime(now),
    updated_at: isoTime(now),
  };
  await store.db.insertInto('jobs').values(row).execute();
  return recordOf(row);
}

/** The oldest runnable job: queued and due, or running with a lapsed lease and attempts left. */
function nextRunnable(db: Kysely<Database>, store: Store, now: string, kinds: readonly string[] | undefined) {
  let q = db
    .selectFrom('jobs')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([eb('state', '=', 'queued'), eb('run_at', '<=', now)]),
        eb.and([eb('state', '=', 'running'), eb('lease_until', '<', now), eb('attempts', '<', eb.ref('max_attempts'))]),
      ]),
    );
  if (kinds && kinds.length > 0) q = q.where('kind', 'in', [...kinds]);
  q = q.orderBy('run_at').orderBy('id').limit(1);
  // Concurrent claimers on PostgreSQL skip rows another transaction holds instead of queueing behind it.
  return store.dialect === 'postgres' ? q.forUpdate().skipLocked() : q;
}

/**
 * Claims one job in a single UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING statement: SQLite runs it under
 * its write lock, PostgreSQL with FOR UPDATE SKIP LOCKED; either way a job goes to one worker at a time.
 */
export async function claimJob(
  store: Store,
  deps: StoreDeps,
  opts: { worker: string; leaseMs: number; kinds?: readonly string[] },
): Promise<JobRecord | undefined> {
  const now = deps.clock.now();
  const nowIso = isoTime(now);
  const row = await store.db
    .updateTable('jobs')
    .set((eb) => ({
      state: 'running',
      worker: opts.worker,
      lease_until: isoTime(now + opts.leaseMs),
      attempts: eb('attempts', '+', 1),
      updated_at: nowIso,
    }))
    .where('id', '=', (eb) => nextRunnable(eb as unknown as Kysely<Database>, store, nowIso, opts.kinds))
    .returningAll()
    .executeTakeFirst();
  return row && recordOf(row);
}

function owned(store: Store, id: string, worker: string) {
  return store.db.updateTable('jobs').where('id', '=', id).where('worker', '=', worker).where('state', '=', 'running');
}

/** Renews the lease of a job this worker still holds; false means it lost the job and must stop. */
export async function extendLease(store: Store, deps: StoreDeps, id: string, worker: string, leaseMs: number) {
  const now = deps.clock.now();
  const res = await owned(store, id, worker)
    .set({ lease_until: isoTime(now + leaseMs), updated_at: isoTime(now) })
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function completeJob(store: Store, deps: StoreDeps, id: string, worker: string): Promise<boolean> {
  const now = isoTime(deps.clock.now());
  const res = await owned(store, id, worker)
    .set({ state: 'succeeded', lease_until: null, updated_at: now })
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Queues the job again after `retryDelayMs` while attempts remain, else marks it failed. */
export async function failJob(
  store: Store,
  deps: StoreDeps,
  id: string,
  worker: string,
  error: string,
  retryDelayMs: number,
): Promise<JobState | undefined> {
  const now = deps.clock.now();
  const res = await owned(store, id, worker)
    .set((eb) => ({
      state: eb
        .case()
        .when('attempts', '<', eb.ref('max_attempts'))
        .then(eb.val<JobState>('queued'))
        .else(eb.val<JobState>('failed'))
        .end(),
      run_at: isoTime(now + retryDelayMs),
      lease_until: null,
      last_error: error.slice(0, 2000),
      updated_at: isoTime(now),
    }))
    .returning('state')
    .executeTakeFirst();
  return res?.state as JobState | undefined;
}

/**
 * Fails the running jobs whose lease lapsed on their last attempt (their worker died): nobody claims them
 * again, so without this they stay `running` for ever. Compare-and-set per job: one sweeper wins each.
 */
export async function abandonLapsed(store: Store, deps: StoreDeps, error: string): Promise<JobRecord[]> {
  const now = isoTime(deps.clock.now());
  const lapsed = await store.db
    .selectFrom('jobs')
    .select('id')
    .where('state', '=', 'running')
    .where('lease_until', '<', now)
    .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
    .limit(100)
    .execute();
  const given: JobRecord[] = [];
  for (const { id } of lapsed) {
    const row = await store.db
      .updateTable('jobs')
      .set({ state: 'failed', lease_until: null, last_error: error, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .where('lease_until', '<', now)
      .returningAll()
      .executeTakeFirst();
    if (row) given.push(recordOf(row));
  }
  return given;
}

export async function getJob(store: Store, id: string): Promise<JobRecord | undefined> {
  const r = await store.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return r && recordOf(r);
}

/**
 * Payloads of the jobs of `kind` that will still run: queued, or running and either leased or with attempts
 * left. A running job whose worker died after its last attempt never runs again and is not counted.
 */
export async function livePayloads(store: Store, kind: string, now: number): Promise<unknown[]> {
  const rows = await store.db
    .selectFrom('jobs')
    .select(['id', 'payload'])
    .where('kind', '=', kind)
    .where((eb) =>
      eb.or([
        eb('state', '=', 'queued'),
        eb.and([
          eb('state', '=', 'running'),
          eb.or([eb('lease_until', '>=', isoTime(now)), eb('attempts', '<', eb.ref('max_attempts'))]),
        ]),
      ]),
    )
    .execute();
  return rows.map((r) => readJson(r.payload, `payload of job ${r.id}`));
}
