import { type ByteSource, openFileSource } from '../core/byte-source.js';
import type { Random, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { DEFAULT_RETRY_POLICY, decide, isTransientStatus, type Outcome, type RetryPolicy } from '../core/policy.js';
import { OrderedHasher } from './hasher.js';
import type { PartTransport } from './http-transport.js';
import type { PartPlan } from './operations.js';
import { readPart } from './part-reader.js';
import { ChunkPool, release } from './pool.js';

export { httpTransport, type PartTransport } from './http-transport.js';

export interface EngineOptions {
  file: string;
  /** The file's bytes from elsewhere (a worker reads the server's artifact by HTTP range); `file` by default. */
  source?: ByteSource;
  parts: PartPlan[];
  /** Parts already accepted (a resumed upload): read for the checksum only, not sent again. */
  done?: ReadonlySet<number>;
  concurrency: number;
  transport: PartTransport;
  sleep: Sleep;
  random: Random;
  now: () => number;
  /** Attempts per part, the first included (default 6); the delays come from core/policy.ts. */
  maxAttempts?: number;
  retryPolicy?: RetryPolicy;
  /** A part that makes no progress for this long is aborted and retried. */
  stallMs?: number;
  /**
   * Bytes Apple's side has acknowledged (parts answered 2xx, and parts done before this run), the file's size,
   * and the bytes read into parts still in flight, which are "sending", not done.
   */
  onProgress?: (ackedBytes: number, totalBytes: number, sendingBytes: number) => void;
  onPartDone?: (partNumber: number) => void;
  signal?: AbortSignal;
  /** Read size; also the granularity of progress. */
  chunkSize?: number;
  /**
   * Most bytes held for the in-order checksum before parts ahead of the oldest unfinished one pause their
   * reads (default 24 MiB). Bounds memory; a little lower throughput if the oldest part is much slower.
   */
  holdBudget?: number;
}

export interface EngineResult {
  md5: string;
  /** The most bytes ever held for in-order hashing: evidence of constant memory. */
  peakBufferedBytes: number;
  attempts: number;
}

/** The end of one attempt at one part: an HTTP answer, or none (reset, stall, refused connection). */
type AttemptEnd = { kind: 'answer'; status: number; detail?: string } | { kind: 'no-answer'; why: string };

interface InFlight {
  controller: AbortController;
  lastProgress: number;
  stalled: boolean;
}

/**
 * Uploads every part of a reserved file in parallel (bounded), streaming each byte range from disk, re-sending
 * a part as core/policy.ts decides for an idempotent request (a PUT of fixed bytes at a fixed offset), and
 * computing the whole file's MD5 from the same reads. Memory stays constant whatever the file's size.
 */
export async function uploadParts(o: EngineOptions): Promise<EngineResult> {
  if (o.signal?.aborted) throw o.signal.reason;
  const source = o.source ?? (await openFileSource(o.file));
  const run = new EngineRun(o, source);
  // One listener on the caller's signal for the whole upload, however many parts are in flight: a listener
  // per part trips Node's MaxListenersExceededWarning at 11 and garbles the progress output.
  const onAbort = () => run.abortAll(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await run.all();
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    run.stop();
    if (!o.source) await source.close();
  }
}

class EngineRun {
  private readonly hasher: OrderedHasher;
  private readonly pool: ChunkPool;
  private readonly total: number;
  private readonly policy: RetryPolicy;
  private readonly inFlight = new Set<InFlight>();
  /** Controllers of in-flight attempts and of backoff waits: what an abort of the caller's signal ends. */
  private readonly controllers = new Set<AbortController>();
  private readonly watchdog: ReturnType<typeof setInterval>;
  private readonly stallMs: number;
  private acked = 0;
  private sending = 0;
  private peak = 0;
  private attempts = 0;
  private failure: unknown;

  constructor(
    private readonly o: EngineOptions,
    private readonly source: ByteSource,
  ) {
    this.hasher = new OrderedHasher(o.parts.map((p) => p.length));
    this.pool = new ChunkPool(o.chunkSize ?? 64 * 1024);
    this.total = o.parts.reduce((n, p) => n + p.length, 0);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...o.retryPolicy, maxAttempts: o.maxAttempts ?? 6 };
    this.stallMs = o.stallMs ?? 60_000;
    for (const p of o.parts) if (o.done?.has(p.partNumber)) this.acked += p.length;
    // One watchdog for every part in flight, rather than a timer per attempt.
    this.watchdog = setInterval(() => this.checkStalls(), Math.min(5000, this.stallMs));
    this.watchdog.unref();
  }

  async all(): Promise<EngineResult> {
    this.report();
    const queue = [...this.o.parts];
    const worker = async () => {
      while (queue.length && this.failure === undefined) {
        const p = queue.shift()!;
        await this.hasher.waitForWindow(p.index, this.o.concurrency);
        if (this.failure !== undefined) return;
        try {
          await this.runPart(p);
        } catch (err) {
          this.failure ??= err;
          this.hasher.cancel();
        }
      }
    };
    const workers = Math.max(1, Math.min(this.o.concurrency, this.o.parts.length));
    await Promise.all(Array.from({ length: workers }, worker));
    if (this.failure !== undefined) throw this.failure;
    return { md5: this.hasher.digest(), peakBufferedBytes: this.peak, attempts: this.attempts };
  }

  abortAll(reason: unknown): void {
    for (const c of this.controllers) c.abort(reason);
  }

  stop(): void {
    clearInterval(this.watchdog);
  }

  private report(): void {
    this.o.onProgress?.(this.acked, this.total, this.sending);
  }

  private checkStalls(): void {
    const now = this.o.now();
    for (const a of this.inFlight) {
      if (now - a.lastProgress <= this.stallMs) continue;
      a.stalled = true;
      a.controller.abort(new Error('stalled'));
    }
  }

  private async runPart(p: PartPlan): Promise<void> {
    if (this.o.done?.has(p.partNumber)) {
      // Already on Apple's side from an earlier run: read once more only for the checksum.
      for await (const chunk of this.reader(p)) release(chunk as Buffer);
      return;
    }
    for (let attempt = 0; ; attempt++) {
      const end = await this.attempt(p);
      if (end.kind === 'answer' && end.status >= 200 && end.status < 300) {
        this.acked += p.length;
        this.report();
        this.o.onPartDone?.(p.partNumber);
        return;
      }
      const outcome: Outcome = end.kind === 'answer' ? { kind: 'answer', status: end.status } : end;
      const d = decide('idempotent', outcome, attempt, this.policy, this.o.random);
      if (d.action !== 'resend') throw this.finalError(p, end, attempt + 1);
      await this.pause(d.delayMs);
    }
  }

  private reader(p: PartPlan, onChunk?: (n: number) => void) {
    return readPart(p, {
      source: this.source,
      pool: this.pool,
      hasher: this.hasher,
      holdBudget: this.o.holdBudget ?? 24 * 1024 * 1024,
      onChunk: (n) => {
        this.peak = Math.max(this.peak, this.hasher.bufferedBytes);
        onChunk?.(n);
      },
    });
  }

  /** One PUT of one part. Bytes read into it count as "sending" until it is answered, never as done. */
  private async attempt(p: PartPlan): Promise<AttemptEnd> {
    // A part whose turn comes after the caller gave up is not started.
    if (this.o.signal?.aborted) throw this.o.signal.reason;
    this.attempts++;
    const a: InFlight = { controller: new AbortController(), lastProgress: this.o.now(), stalled: false };
    let read = 0;
    // No 'data' listener here: it would start the stream flowing before the transport reads it.
    const body = this.reader(p, (n) => {
      a.lastProgress = this.o.now();
      read += n;
      this.sending += n;
      this.report();
    });
    this.inFlight.add(a);
    this.controllers.add(a.controller);
    try {
      const res = await this.o.transport(p, body, a.controller.signal);
      return { kind: 'answer', status: res.status, detail: res.detail };
    } catch (err) {
      if (this.o.signal?.aborted) throw this.o.signal.reason ?? err;
      if (err instanceof AscendError) throw err;
      return { kind: 'no-answer', why: a.stalled ? `part ${p.partNumber} stalled` : (err as Error).message };
    } finally {
      this.inFlight.delete(a);
      this.controllers.delete(a.controller);
      this.sending -= read;
      this.report();
      body.destroy();
    }
  }

  /** A backoff wait that the caller's signal can end, through this run's one listener. */
  private async pause(ms: number): Promise<void> {
    const c = new AbortController();
    this.controllers.add(c);
    try {
      await this.o.sleep(ms, c.signal);
    } finally {
      this.controllers.delete(c);
    }
  }

  private finalError(p: PartPlan, end: AttemptEnd, attempts: number): AscendError {
    if (end.kind === 'answer' && end.status === 403 && p.expiresAt !== undefined && p.expiresAt < this.o.now()) {
      return new AscendError(
        'UPLOAD_EXPIRED',
        `the upload operations expired at ${new Date(p.expiresAt).toISOString()}`,
      );
    }
    if (end.kind === 'no-answer' || isTransientStatus(end.status)) {
      const why = end.kind === 'no-answer' ? end.why : `HTTP ${end.status}`;
      return new AscendError('UPLOAD_PART_FAILED', `part ${p.partNumber} failed ${attempts} times (${why})`);
    }
    return new AscendError(
      'UPLOAD_PART_FAILED',
      `part ${p.partNumber} was refused with HTTP ${end.status}${end.detail ? ` (${end.detail})` : ''}`,
      { details: { partNumber: p.partNumber, status: end.status } },
    );
  }
}
