/** What a handler gets: the job, and a signal that fires when the job was lost (lease passed) or the worker stops. */
export interface JobContext {
  id: string;
  kind: string;
  payload: unknown;
  /** 1 on the first run. */
  attempt: number;
  signal: AbortSignal;
}

export interface EnqueueOptions {
  /** Not before this time (ms since the epoch). */
  runAt?: number;
  /** Runs in all, the first included (default 3). */
  maxAttempts?: number;
  /** When a job of this kind already waits, enqueue nothing and return its id (a schedule kept once). */
  unlessWaiting?: boolean;
}

export type JobHandler = (job: JobContext) => Promise<void>;

/** A job the queue gave up on: its last attempt failed, or was lost (its worker stopped renewing the lease). */
export interface GivenUpJob {
  id: string;
  kind: string;
  payload: unknown;
  reason: string;
}

/**
 * Told once of each job the queue gives up on, after the queue recorded it, so the work the job stood for
 * (a deploy) is not left looking alive for ever; the queue stays generic and ignores the hook's errors.
 */
export type GiveUpHook = (job: GivenUpJob) => Promise<void>;

/** Who holds a running job and until when, with its payload: the worker API hands out credentials by it. */
export interface JobLease {
  worker: string;
  /** ISO time the lease lapses unless renewed. */
  until: string;
  payload: unknown;
}

/**
 * The queue behind deploys and checks (DESIGN §2 queue/): the jobs table for the embedded server (SQLite or
 * PostgreSQL), pg-boss when scaled out. Jobs carry ids, never secrets; a handler re-reads what it needs.
 */
export interface JobQueue {
  readonly name: string;
  enqueue(kind: string, payload: unknown, opts?: EnqueueOptions): Promise<string>;
  /** Starts taking jobs of these kinds: `concurrency` loops (default the queue's own). */
  work(kinds: readonly string[], handler: JobHandler, opts?: { concurrency?: number }): void;
  /** Stops taking jobs and waits for running ones; after `timeoutMs` their signals fire and they are released. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /**
   * Payloads of the jobs of `kind` that will still run (waiting, or running and not lost for good), so a
   * scheduler can skip work already queued. Each queue answers from its own tables.
   */
  livePayloads(kind: string): Promise<unknown[]>;
  /** Jobs running now in this process. */
  readonly running: number;
  /** The lease of a running job (any process's), or undefined when it is not running. */
  lease(jobId: string): Promise<JobLease | undefined>;
}
