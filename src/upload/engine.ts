import { createReadStream } from 'node:fs';
import { type Readable, Transform } from 'node:stream';
import type { Random, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { OrderedHasher } from './hasher.js';
import type { PartPlan } from './operations.js';

/** Sends one part: exactly its method, URL and headers, the body streamed, and no JWT (the URL is pre-signed). */
export type PartTransport = (
  part: PartPlan,
  body: Readable,
  signal: AbortSignal,
) => Promise<{ status: number; detail?: string }>;

export interface EngineOptions {
  file: string;
  parts: PartPlan[];
  /** Parts already accepted (a resumed upload): read for the checksum only, not sent again. */
  done?: ReadonlySet<number>;
  concurrency: number;
  transport: PartTransport;
  sleep: Sleep;
  random: Random;
  now: () => number;
  maxAttempts?: number;
  /** A part that makes no progress for this long is aborted and retried. */
  stallMs?: number;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  onPartDone?: (partNumber: number) => void;
  signal?: AbortSignal;
  /** Read size; also the granularity of progress. */
  chunkSize?: number;
}

export interface EngineResult {
  md5: string;
  /** The most bytes ever held for in-order hashing: evidence of constant memory. */
  peakBufferedBytes: number;
  attempts: number;
}

class RetryablePartError extends Error {}

/**
 * Uploads every part of a reserved file in parallel (bounded), streaming each byte range from disk, retrying
 * a part on network errors, 5xx and 429 with jittered backoff, and computing the whole file's MD5 from the
 * same reads. Memory stays constant whatever the file's size: at most `concurrency` parts are read at once
 * and at most `concurrency` part-lengths are held for hashing.
 */
export async function uploadParts(o: EngineOptions): Promise<EngineResult> {
  const hasher = new OrderedHasher(o.parts.map((p) => p.length));
  const total = o.parts.reduce((n, p) => n + p.length, 0);
  const maxAttempts = o.maxAttempts ?? 6;
  const stallMs = o.stallMs ?? 60_000;
  const chunkSize = o.chunkSize ?? 256 * 1024;
  const sentPerPart = new Map<number, number>();
  let sent = 0;
  let peak = 0;
  let attempts = 0;
  const queue = [...o.parts];
  const report = () => o.onProgress?.(sent, total);

  for (const p of o.parts) {
    if (o.done?.has(p.partNumber)) {
      sent += p.length;
      sentPerPart.set(p.partNumber, p.length);
    }
  }
  report();

  const readPart = (p: PartPlan, countProgress: boolean, onChunk?: () => void) => {
    let position = 0;
    return createReadStream(o.file, { start: p.offset, end: p.offset + p.length - 1, highWaterMark: chunkSize }).pipe(
      new Transform({
        transform(chunk: Buffer, _e, done) {
          hasher.feed(p.index, position, chunk);
          peak = Math.max(peak, hasher.bufferedBytes);
          position += chunk.length;
          if (countProgress) {
            sent += chunk.length;
            sentPerPart.set(p.partNumber, (sentPerPart.get(p.partNumber) ?? 0) + chunk.length);
            report();
          }
          onChunk?.();
          done(null, chunk);
        },
      }),
    );
  };

  const sendOnce = async (p: PartPlan): Promise<void> => {
    attempts++;
    const controller = new AbortController();
    const abort = () => controller.abort(o.signal?.reason);
    o.signal?.addEventListener('abort', abort, { once: true });
    let lastProgress = o.now();
    // No 'data' listener here: it would start the stream flowing before the transport reads it.
    const body = readPart(p, true, () => {
      lastProgress = o.now();
    });
    const watchdog = setInterval(
      () => {
        if (o.now() - lastProgress > stallMs) controller.abort(new RetryablePartError(`part ${p.partNumber} stalled`));
      },
      Math.min(5000, stallMs),
    );
    try {
      const res = await o.transport(p, body, controller.signal);
      if (res.status >= 200 && res.status < 300) return;
      if (res.status === 429 || res.status >= 500)
        throw new RetryablePartError(`part ${p.partNumber} answered HTTP ${res.status}`);
      if (res.status === 403 && p.expiresAt !== undefined && p.expiresAt < o.now()) {
        throw new AscendError(
          'UPLOAD_EXPIRED',
          `the upload operations expired at ${new Date(p.expiresAt).toISOString()}`,
        );
      }
      throw new AscendError(
        'UPLOAD_PART_FAILED',
        `part ${p.partNumber} was refused with HTTP ${res.status}${res.detail ? ` (${res.detail})` : ''}`,
      );
    } catch (err) {
      if (err instanceof AscendError) throw err;
      if (o.signal?.aborted) throw o.signal.reason ?? err;
      throw err instanceof RetryablePartError
        ? err
        : new RetryablePartError(`part ${p.partNumber}: ${(err as Error).message}`);
    } finally {
      clearInterval(watchdog);
      o.signal?.removeEventListener('abort', abort);
      body.destroy();
    }
  };

  const runPart = async (p: PartPlan): Promise<void> => {
    if (o.done?.has(p.partNumber)) {
      // Already on Apple's side from an earlier run: read once more only for the checksum.
      for await (const _ of readPart(p, false)) {
        // drained by the hasher
      }
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await sendOnce(p);
        o.onPartDone?.(p.partNumber);
        return;
      } catch (err) {
        if (!(err instanceof RetryablePartError)) throw err;
        sent -= sentPerPart.get(p.partNumber) ?? 0;
        sentPerPart.set(p.partNumber, 0);
        report();
        if (attempt >= maxAttempts) {
          throw new AscendError('UPLOAD_PART_FAILED', `part ${p.partNumber} failed ${attempt} times (${err.message})`);
        }
        const ceiling = Math.min(30_000, 1000 * 2 ** (attempt - 1));
        await o.sleep(ceiling / 4 + o.random() * ceiling * 0.75, o.signal);
      }
    }
  };

  let failure: unknown;
  const worker = async () => {
    while (queue.length && failure === undefined) {
      const p = queue.shift()!;
      await hasher.waitForWindow(p.index, o.concurrency);
      if (failure !== undefined) return;
      try {
        await runPart(p);
      } catch (err) {
        failure ??= err;
        hasher.cancel();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, o.parts.length)) }, worker));
  if (failure !== undefined) throw failure;
  return { md5: hasher.digest(), peakBufferedBytes: peak, attempts };
}

/** The default transport: undici with its own connection pool, so part uploads never share the API's. */
export async function undiciTransport(connections: number): Promise<PartTransport & { close(): Promise<void> }> {
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connections, keepAliveTimeout: 10_000, headersTimeout: 300_000, bodyTimeout: 300_000 });
  const send: PartTransport = async (part, body, signal) => {
    const res = await request(part.url, {
      method: part.method as 'PUT',
      headers: { ...part.headers, 'content-length': String(part.length) },
      body,
      dispatcher: agent,
      signal,
    });
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
      return { status: res.statusCode };
    }
    // Storage services explain refusals in a small XML body (<Code>, <Message>): keep it for the error.
    const text = (await res.body.text()).slice(0, 500);
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
    return {
      status: res.statusCode,
      detail: code ? `${code}: ${message ?? ''}`.trim() : text.replace(/\s+/g, ' ').slice(0, 200),
    };
  };
  return Object.assign(send, { close: () => agent.close() });
}
