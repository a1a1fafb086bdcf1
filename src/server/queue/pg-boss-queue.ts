import { CompiledQuery, type Kysely, type QueryExecutorProvider, sql } from 'kysely';
import type PgBoss from 'pg-boss';
import type { Clock, Sleep } from '../../core/clock.js';
import { redact } from '../../core/redact.js';
import { isoTime } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { type ScaleDb, scaleDb } from '../store/scale.js';
import { stopLoops } from './stop-loops.js';
import type { EnqueueOptions, GivenUpJob, GiveUpHook, JobHandler, JobLease, JobQueue } from './types.js';

export interface PgBossQueueOptions {
  /** This worker's name in the lease table (host:pid:n). */
  worker: string;
  concurrency: number;
  /** How long a lease holds; renewed every third of it while the handler runs, reaped once it lapses. */
  leaseMs: number;
  /** Idle wait between fetches when nothing is due. */
  pollMs: number;
  clock: Clock;
  sleep: Sleep;
  /** pg-boss's retry delay in seconds (doubled per attempt, with jitter); 0 retries at once. */
  retryDelaySeconds?: number;
  /** pg-boss's own expiry, a backstop behind the lease: above the slowest step (pg-boss 10 caps it below 24 h). */
  expireInSeconds?: number;
  /** pg-boss's schema; by default beside the store's (`<schema>_boss`, or `pgboss` for `public`). */
  bossSchema?: string;
  /** Told of each job given up on: its last attempt failed or its lease was reaped. */
  onGiveUp?: GiveUpHook;
}

interface FetchedJob {
  id: string;
  name: string;
  data: unknown;
  retryCount: number;
}

const ignoreAbort = (p: Promise<void>) => p.catch(() => {});

/** pg-boss runs its SQL through our Kysely pool (or a transaction of it): one pool per process, not two. */
function executor(db: { executeQuery: Kysely<unknown>['executeQuery'] }): PgBoss.Db {
  return {
    executeSql: async (text: string, values?: unknown[]) => {
      const r = await db.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: r.rows as unknown[] };
    },
  };
}

export function bossSchemaOf(store: Store): string {
  return !store.schema || store.schema === 'public' ? 'pgboss' : `${store.schema.slice(0, 57)}_boss`;
}

/**
 * Opens pg-boss on the store's PostgreSQL and installs or upgrades its schema. Several servers starting at
 * once take turns through a session advisory lock, so exactly one installs it and the others find it done
 * (pg-boss's own race handling leaves a failed transaction on a pooled connection).
 */
export async function openPgBossQueue(store: Store, opts: PgBossQueueOptions): Promise<PgBossJobQueue> {
  const { default: PgBossClass } = await import('pg-boss');
  const schema = opts.bossSchema ?? bossSchemaOf(store);
  const boss = new PgBossClass({
    db: executor(store.db),
    schema,
    migrate: true,
    // Expiry and archiving; the lease reaper below does the fast part.
    supervise: true,
    schedule: false,
  });
  boss.on('error', () => {});
  await installLocked(store, schema, () => boss.start().then(() => {}));
  return new PgBossJobQueue(store, boss, opts, schema);
}

/**
 * Runs pg-boss's schema work one process at a time: installing its schema and creating a queue (a partition
 * table) both deadlock or fail when two servers do them at once.
 */
async function installLocked(store: Store, schema: string, work: () => Promise<void>): Promise<void> {
  const lockKey = `ascend.pgboss.${schema}`;
  await store.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(hashtext(${lockKey}))`.execute(conn);
    try {
      await work();
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${lockKey}))`.execute(conn);
    }
  });
}

/**
 * The JobQueue on pg-boss 10 (DESIGN §2 queue/), one pg-boss queue per job kind. pg-boss 10 has no heartbeat
 * (a job is only failed after `expireIn`, hours for an upload), so a lease row beside it does that part:
 * - a fetch and its lease are one transaction, so no job is active without a lease;
 * - a running job renews its lease; a renewal that finds the row gone or taken means the job was lost;
 * - a reaper deletes lapsed leases and fails their jobs, which pg-boss retries on another worker;
 * - completing or failing first deletes our own lease: of a late worker and the reaper, exactly one wins.
 */
export class PgBossJobQueue implements JobQueue {
  readonly name = 'pg-boss';
  private readonly db: ScaleDb;
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly inFlight = new Map<string, AbortController>();
  private readonly queues = new Map<string, Promise<void>>();
  private turn = 0;

  constructor(
    private readonly store: Store,
    private readonly boss: PgBoss,
    private readonly opts: PgBossQueueOptions,
    private readonly schema: string,
  ) {
    this.db = scaleDb(store);
  }

  get running(): number {
    return this.inFlight.size;
  }

  /** pg-boss 10 needs `createQueue(name)` before `send` (stack.md pitfall 21); once per kind and process. */
  private ensureQueue(kind: string): Promise<void> {
    let made = this.queues.get(kind);
    if (!made) {
      const create = async () => {
        if (await this.boss.getQueue(kind)) return;
        await installLocked(this.store, this.schema, async () => {
          if (!(await this.boss.getQueue(kind))) await this.boss.createQueue(kind);
        });
      };
      made = create().catch((err: unknown) => {
        this.queues.delete(kind);
        throw err;
      });
      this.queues.set(kind, made);
    }
    return made;
  }

  async enqueue(kind: string, payload: unknown, o: EnqueueOptions = {}): Promise<string> {
    await this.ensureQueue(kind);
    if (!o.unlessWaiting) return this.send(kind, payload, o);
    // Checked and sent under the schema lock, so two servers starting at once keep one schedule.
    let id = '';
    await installLocked(this.store, this.schema, async () => {
      const waiting = await sql<{ id: string }>`select id from ${sql.table(`${this.schema}.job`)}
        where name = ${kind} and state in ('created', 'retry') limit 1`.execute(this.store.db);
      id = waiting.rows[0]?.id ?? (await this.send(kind, payload, o));
    });
    return id;
  }

  private async send(kind: string, payload: unknown, o: EnqueueOptions): Promise<string> {
    const retryDelay = this.opts.retryDelaySeconds ?? 0;
    const id = await this.boss.send(kind, (payload ?? {}) as object, {
      retryLimit: Math.max(0, (o.maxAttempts ?? 3) - 1),
      retryDelay,
      retryBackoff: retryDelay > 0,
      expireInSeconds: this.opts.expireInSeconds ?? 4 * 3600,
      ...(o.runAt !== undefined ? { startAfter: new Date(o.runAt) } : {}),
    });
    if (!id) throw new Error(`pg-boss refused the ${kind} job`);
    return id;
  }

  /** The lease row says who holds the job; its payload is pg-boss's (the job table is partitioned by name). */
  async lease(jobId: string): Promise<JobLease | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId)) return undefined; // pg-boss ids are UUIDs
    const row = await this.db
      .selectFrom('queue_leases')
      .select(['worker', 'expires_at'])
      .where('job_id', '=', jobId)
      .executeTakeFirst();
    if (!row) return undefined;
    const job = await sql<{ data: unknown }>`select data from ${sql.table(`${this.schema}.job`)}
      where id = ${jobId} and state = 'active'`.execute(this.store.db);
    const data = job.rows[0]?.data;
    if (data === undefined) return undefined;
    return { worker: row.worker, until: row.expires_at, payload: data };
  }

  async livePayloads(kind: string): Promise<unknown[]> {
    await this.ensureQueue(kind);
    // pg-boss's own states: created and retry wait; active runs (a lapsed lease is reaped into retry).
    const rows = await sql<{ data: unknown }>`select data from ${sql.table(`${this.schema}.job`)}
      where name = ${kind} and state in ('created', 'retry', 'active')`.execute(this.store.db);
    return rows.rows.map((r) => r.data);
  }

  private reaping = false;

  work(kinds: readonly string[], handler: JobHandler, opts: { concurrency?: number } = {}): void {
    const n = opts.concurrency ?? this.opts.concurrency;
    for (let i = 0; i < n; i++) this.loops.push(this.loop(kinds, handler));
    // One reaper per process is enough, however many sets of loops work here.
    if (!this.reaping) {
      this.reaping = true;
      this.loops.push(this.reaper());
    }
  }

  private async loop(kinds: readonly string[], handler: JobHandler): Promise<void> {
    await Promise.all(kinds.map((k) => this.ensureQueue(k))).catch(() => {});
    while (!this.stopping.signal.aborted) {
      // The lease runs from no later than this: the heartbeat counts from here until its first renewal.
      const claimedAt = this.opts.clock.now();
      const job = await this.claim(kinds).catch(() => undefined);
      if (!job) {
        await ignoreAbort(this.opts.sleep(this.opts.pollMs, this.stopping.signal));
        continue;
      }
      await this.run(job, handler, claimedAt);
    }
  }

  /** The next due job of any of these kinds (taking kinds in turn), fetched and leased in one transaction. */
  private async claim(kinds: readonly string[]): Promise<FetchedJob | undefined> {
    const start = this.turn++;
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[(start + i) % kinds.length]!;
      const job = await this.db.transaction().execute(async (trx) => {
        const rows: FetchedJob[] = await this.boss.fetch(kind, {
          batchSize: 1,
          includeMetadata: true,
          db: executor(trx),
        });
        const got = rows[0];
        if (!got) return undefined;
        const lease = { worker: this.opts.worker, expires_at: this.leaseEnd() };
        await trx
          .insertInto('queue_leases')
          .values({ job_id: got.id, kind, ...lease })
          .onConflict((oc) => oc.column('job_id').doUpdateSet(lease))
          .execute();
        return got;
      });
      if (job) return job;
    }
    return undefined;
  }

  private leaseEnd(): string {
    return isoTime(this.opts.clock.now() + this.opts.leaseMs);
  }

  private async run(job: FetchedJob, handler: JobHandler, claimedAt: number): Promise<void> {
    const control = new AbortController();
    this.inFlight.set(job.id, control);
    const heartbeat = this.heartbeat(job.id, control, claimedAt);
    try {
      await handler({
        id: job.id,
        kind: job.name,
        payload: job.data,
        attempt: Number(job.retryCount) + 1,
        signal: control.signal,
      });
      await this.settle(job, 'complete');
    } catch (err) {
      // Stopped by our own shutdown: handed back as it was, without spending an attempt (SIGTERM is no
      // failure; the run resumes from its saved steps). A lost job is someone else's now: settle finds no
      // lease of ours and records nothing.
      const released = this.stopping.signal.aborted && control.signal.aborted;
      const message = redact(err instanceof Error ? err.message : String(err));
      await this.settle(job, released ? 'release' : 'fail', message).catch(() => {});
    } finally {
      this.inFlight.delete(job.id);
      control.abort(new Error('job finished'));
      await heartbeat;
    }
  }

  /** Ends our hold on the job: only while our lease row is still ours does pg-boss hear the outcome. */
  private async settle(job: FetchedJob, outcome: 'complete' | 'fail' | 'release', message?: string): Promise<boolean> {
    let given: GivenUpJob | undefined;
    const settled = await this.db.transaction().execute(async (trx) => {
      const gone = await trx
        .deleteFrom('queue_leases')
        .where('job_id', '=', job.id)
        .where('worker', '=', this.opts.worker)
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) return false;
      const db = executor(trx);
      if (outcome === 'complete') await this.boss.complete(job.name, job.id, {}, { db });
      else if (outcome === 'fail') {
        await this.boss.fail(job.name, job.id, { message }, { db });
        if (await this.failedForGood(trx, job.name, job.id))
          given = { id: job.id, kind: job.name, payload: job.data, reason: message ?? 'failed' };
      }
      // pg-boss 10 has no release: back to `created` with no start time, so its next fetch counts no retry.
      else
        await sql`update ${sql.table(`${this.schema}.job`)} set state = 'created', started_on = null, start_after = now()
          where name = ${job.name} and id = ${job.id} and state = 'active'`.execute(trx);
      return true;
    });
    if (given) await this.gaveUp([given]);
    return settled;
  }

  /** After pg-boss's fail: true when it retries the job no more (its retries are spent). */
  private async failedForGood(db: QueryExecutorProvider, kind: string, id: string): Promise<boolean> {
    const r = await sql<{ state: string }>`select state from ${sql.table(`${this.schema}.job`)}
      where name = ${kind} and id = ${id}`.execute(db);
    return r.rows[0]?.state === 'failed';
  }

  private async gaveUp(jobs: readonly GivenUpJob[]): Promise<void> {
    for (const j of jobs) await this.opts.onGiveUp?.(j).catch(() => {});
  }

  /**
   * Renews the lease until the job ends; a renewal that finds no lease of ours means the job was lost. A
   * renewal that errors is no renewal: once the lease has run out since the last good one, the reaper may
   * have failed the job and another worker taken it, so the handler is told as well.
   */
  private async heartbeat(id: string, control: AbortController, claimedAt: number): Promise<void> {
    const { clock } = this.opts;
    const every = Math.max(1, Math.floor(this.opts.leaseMs / 3));
    let renewed = claimedAt;
    while (!control.signal.aborted) {
      await ignoreAbort(this.opts.sleep(every, control.signal));
      if (control.signal.aborted) return;
      const at = clock.now();
      const held = await this.db
        .updateTable('queue_leases')
        .set({ expires_at: this.leaseEnd() })
        .where('job_id', '=', id)
        .where('worker', '=', this.opts.worker)
        .executeTakeFirst()
        .then((r) => Number(r.numUpdatedRows) > 0)
        .catch(() => undefined);
      if (held) renewed = at;
      if (held === false) control.abort(new Error('the job’s lease passed to another worker'));
      else if (held === undefined && clock.now() >= renewed + this.opts.leaseMs)
        control.abort(new Error('the job’s lease ran out: its renewals failed'));
    }
  }

  /** Fails the jobs of lapsed leases (a worker killed or cut off), so pg-boss retries them elsewhere. */
  private async reaper(): Promise<void> {
    const every = Math.max(1, Math.floor(this.opts.leaseMs / 2));
    while (!this.stopping.signal.aborted) {
      await this.reap().catch(() => 0);
      await ignoreAbort(this.opts.sleep(every, this.stopping.signal));
    }
  }

  /** One reaper pass; returns how many jobs it released. */
  async reap(): Promise<number> {
    const given: GivenUpJob[] = [];
    const reason = 'the worker stopped renewing its lease';
    const reaped = await this.db.transaction().execute(async (trx) => {
      const lapsed = await trx
        .deleteFrom('queue_leases')
        .where('expires_at', '<', isoTime(this.opts.clock.now()))
        .returning(['job_id', 'kind'])
        .execute();
      const db = executor(trx);
      for (const l of lapsed) {
        await this.boss.fail(l.kind, l.job_id, { message: reason }, { db });
        if (await this.failedForGood(trx, l.kind, l.job_id)) {
          const job = await sql<{ data: unknown }>`select data from ${sql.table(`${this.schema}.job`)}
            where name = ${l.kind} and id = ${l.job_id}`.execute(trx);
          given.push({ id: l.job_id, kind: l.kind, payload: job.rows[0]?.data, reason });
        }
      }
      return lapsed.length;
    });
    await this.gaveUp(given);
    return reaped;
  }

  async stop(o: { timeoutMs?: number } = {}): Promise<void> {
    await stopLoops({
      stopping: this.stopping,
      loops: this.loops,
      inFlight: this.inFlight.values(),
      sleep: this.opts.sleep,
      timeoutMs: o.timeoutMs,
    });
    await this.boss.stop({ graceful: false, close: false, wait: true });
  }
}
