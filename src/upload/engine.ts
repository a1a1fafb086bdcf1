import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Random, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { OrderedHasher } from './hasher.js';
import type { PartPlan } from './operations.js';
import { ChunkPool, release } from './pool.js';

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
  const chunkSize = o.chunkSize ?? 64 * 1024;
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

  const holdBudget = o.holdBudget ?? 24 * 1024 * 1024;
  const fh = await open(o.file, 'r');
  const pool = new ChunkPool(chunkSize);
  /** A part's bytes from disk in pooled chunks; each chunk is fed to the hasher as it is read. */
  const readPart = (p: PartPlan, countProgress: boolean, onChunk?: () => void): Readable => {
    let position = 0;
    return new Readable({
      highWaterMark: 2,
      objectMode: true, // chunks are Buffers; object mode keeps the pooled Buffer itself, not a copy
      read() {
        if (position >= p.length) {
          this.push(null);
          return;
        }
        // A part ahead of the oldest unfinished one waits while too much is held for the checksum.
        const gate = async () => {
          while (p.index !== hasher.frontier && hasher.bufferedBytes >= holdBudget && !hasher.isCancelled)
            await hasher.nextAdvance();
        };
        const buffer = pool.take();
        const want = Math.min(buffer.length, p.length - position);
        gate()
          .then(() => fh.read(buffer, 0, want, p.offset + position))
          .then(
            ({ bytesRead }) => {
              if (bytesRead === 0) {
                pool.give(buffer);
                this.destroy(new Error(`unexpected end of file at ${p.offset + position}`));
                return;
              }
              const chunk = pool.wrap(buffer, bytesRead);
              hasher.feed(p.index, position, chunk);
              peak = Math.max(peak, hasher.bufferedBytes);
              position += bytesRead;
              if (countProgress) {
                sent += bytesRead;
                sentPerPart.set(p.partNumber, (sentPerPart.get(p.partNumber) ?? 0) + bytesRead);
                report();
              }
              onChunk?.();
              this.push(chunk);
            },
            (err: Error) => this.destroy(err),
          );
      },
    });
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
      for await (const chunk of readPart(p, false)) release(chunk as Buffer);
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
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, o.parts.length)) }, worker));
  } finally {
    await fh.close();
  }
  if (failure !== undefined) throw failure;
  return { md5: hasher.digest(), peakBufferedBytes: peak, attempts };
}

/**
 * The default transport: Node's own http/https with a keep-alive pool of `connections` sockets, apart from the
 * API client's. (undici would add ~20 MB of resident code for what node:http does here.)
 */
export async function httpTransport(connections: number): Promise<PartTransport & { close(): Promise<void> }> {
  const http = await import('node:http');
  const https = await import('node:https');
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: connections }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: connections }),
  };
  const send: PartTransport = (part, body, signal) =>
    new Promise((resolve, reject) => {
      const url = new URL(part.url);
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(
        url,
        {
          method: part.method,
          headers: { ...part.headers, 'content-length': String(part.length) },
          agent: agents[url.protocol as 'http:' | 'https:'],
          signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            res.resume();
            res.on('end', () => resolve({ status }));
            res.on('error', reject);
            return;
          }
          // Storage services explain refusals in a small XML body (<Code>, <Message>): keep it for the error.
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (text.length < 500) text += d;
          });
          res.on('end', () => {
            const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
            const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
            resolve({
              status,
              detail: code ? `${code}: ${message ?? ''}`.trim() : text.replace(/\s+/g, ' ').slice(0, 200),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      body.on('error', (err) => req.destroy(err));
      // Written chunk by chunk so each pooled buffer is released once the socket has taken it.
      (async () => {
        for await (const chunk of body) {
          const c = chunk as Buffer;
          if (!req.write(c, () => release(c))) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })().catch((err: Error) => req.destroy(err));
    });
  return Object.assign(send, {
    close: async () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}
