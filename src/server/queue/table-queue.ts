import type { Sleep } from '../../core/clock.js';
import { redact } from '../../core/redact.js';
import type { StoreDeps } from '../store/ids.js';
import {
  abandonLapsed,
  claimJob,
  completeJob,
  enqueueJob,
  extendLease,
  failJob,
  getJob,
  type JobRecord,
  livePayloads,
} from '../store/jobs.js';
import type { Store } from '../store/open.js';
import { stopLoops } from './stop-loops.js';
import type { EnqueueOptions, GiveUpHook, JobHandler, JobLease, JobQueue } from './types.js';

export interface TableQueueOptions {
  /** This worker's name in the jobs table (host:pid:n). */
  worker: string;
  concurrency: number;
  /** How long a claim holds; renewed every third of it while the handler runs. */
  leaseMs: number;
  /** Idle wait between claims when nothing is due. */
  pollMs: number;
  sleep: Sleep;
  /** Delay before attempt n+1 after attempt n failed. */
  retryDelayMs?: (attempt: number) => number;
  /** Told of each job given up on: its last attempt failed or its worker died during it. */
  onGiveUp?: GiveUpHook;
}

const ignoreAbort = (p: Promise<void>) => p.catch(() => {});

/** The embedded queue over the jobs table: one claim per slot, a heartbeat per running job. */
export class TableJobQueue implements JobQueue {
  readonly name: string;
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly inFlight = new Map<string, AbortController>();
  private nextSweep = 0;

  constructor(
    private readonly store: Store,
    private readonly deps: StoreDeps,
    private readonly opts: TableQueueOptions,
  ) {
    this.name = `table:${store.dialect}`;
  }

  get running(): number {
    return this.inFlight.size;
  }

  async enqueue(kind: string, payload: unknown, o: EnqueueOptions = {}): Promise<string> {
    const { unlessWaiting, ...rest } = o;
    if (unlessWaiting) {
      const waiting = await this.store.db
        .selectFrom('jobs')
        .select('id')
        .where('kind', '=', kind)
        .where('state', '=', 'queued')
        .executeTakeFirst();
      if (waiting) return waiting.id;
    }
    return (await enqueueJob(this.store, this.deps, { kind, payload, ...rest })).id;
  }

  async lease(jobId: string): Promise<JobLease | undefined> {
    const job = await getJob(this.store, jobId);
    if (job?.state !== 'running' || job.worker === null || job.leaseUntil === null) return undefined;
    return { worker: job.worker, until: job.leaseUntil, payload: job.payload };
  }

  livePayloads(kind: string): Promise<unknown[]> {
    return livePayloads(this.store, kind, this.deps.clock.now());
  }

  work(kinds: readonly string[], handler: JobHandler, opts: { concurrency?: number } = {}): void {
    const n = opts.concurrency ?? this.opts.concurrency;
    for (let i = 0; i < n; i++) this.loops.push(this.loop(kinds, handler));
  }

  private async loop(kinds: readonly string[], handler: JobHandler): Promise<void> {
    while (!this.stopping.signal.aborted) {
      // The lease runs from no later than this: the heartbeat counts from here until its first renewal.
      const claimedAt = this.deps.clock.now();
      const job = await claimJob(this.store, this.deps, {
        worker: this.opts.worker,
        leaseMs: this.opts.leaseMs,
        kinds,
      });
      if (!job) {
        await this.sweep().catch(() => {});
        await ignoreAbort(this.opts.sleep(this.opts.pollMs, this.stopping.signal));
        continue;
      }
      await this.run(job, handler, claimedAt);
    }
  }

  private async run(job: JobRecord, handler: JobHandler, claimedAt: number): Promise<void> {
    const control = new AbortController();
    this.inFlight.set(job.id, control);
    const heartbeat = this.heartbeat(job.id, control, claimedAt);
    try {
      await handler({
        id: job.id,
        kind: job.kind,
        payload: job.payload,
        attempt: job.attempts,
        signal: control.signal,
      });
      await completeJob(this.store, this.deps, job.id, this.opts.worker);
    } catch (err) {
      // A lost job is someone else's now: record nothing against it.
      if (!control.signal.aborted || this.stopping.signal.aborted) {
        const message = redact(err instanceof Error ? err.message : String(err));
        const state = await failJob(
          this.store,
          this.deps,
          job.id,
          this.opts.worker,
          message,
          this.opts.retryDelayMs?.(job.attempts) ?? 0,
        );
        if (state === 'failed') await this.gaveUp([{ ...job, lastError: message }]);
      }
    } finally {
      this.inFlight.delete(job.id);
      control.abort(new Error('job finished'));
      await heartbeat;
    }
  }

  /** When idle, at most every half lease: fails the jobs whose last attempt's worker died, and says so. */
  private async sweep(): Promise<void> {
    const now = this.deps.clock.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + Math.max(1, Math.floor(this.opts.leaseMs / 2));
    await this.gaveUp(await abandonLapsed(this.store, this.deps, 'the worker stopped renewing its lease'));
  }

  private async gaveUp(jobs: readonly JobRecord[]): Promise<void> {
    for (const j of jobs)
      await this.opts
        .onGiveUp?.({ id: j.id, kind: j.kind, payload: j.payload, reason: j.lastError ?? 'failed' })
        .catch(() => {});
  }

  /**
   * Renews the lease until the job ends; a refused renewal means the job was lost, so its handler is told. A
   * renewal that errors is no renewal: once the lease has run out since the last good one, another worker
   * may hold the job, so the handler is told as well.
   */
  private async heartbeat(id: string, control: AbortController, claimedAt: number): Promise<void> {
    const { clock } = this.deps;
    const every = Math.max(1, Math.floor(this.opts.leaseMs / 3));
    let renewed = claimedAt;
    while (!control.signal.aborted) {
      await ignoreAbort(this.opts.sleep(every, control.signal));
      if (control.signal.aborted) return;
      const at = clock.now();
      const held = await extendLease(this.store, this.deps, id, this.opts.worker, this.opts.leaseMs).catch(
        () => undefined,
      );
      if (held) renewed = at;
      if (held === false) control.abort(new Error('the job’s lease passed to another worker'));
      else if (held === undefined && clock.now() >= renewed + this.opts.leaseMs)
        control.abort(new Error('the job’s lease ran out: its renewals failed'));
    }
  }

  async stop(o: { timeoutMs?: number } = {}): Promise<void> {
    await stopLoops({
      stopping: this.stopping,
      loops: this.loops,
      inFlight: this.inFlight.values(),
      sleep: this.opts.sleep,
      timeoutMs: o.timeoutMs,
    });
  }
}
