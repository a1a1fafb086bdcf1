import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { ByteSource, RangeReader } from '../../core/byte-source.js';
import type { Sleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';

export interface HttpSourceOptions {
  name: string;
  size: number;
  /** The artifact's signed URL (absolute); asked again after a 403, since signed URLs expire. */
  url(opts?: { fresh?: boolean }): Promise<string>;
  /** The worker token, sent beside the signature: a signed URL alone opens nothing. */
  token: string;
  agent: http.Agent;
  sleep: Sleep;
  /** Attempts per request or per resumed stream, the first included. */
  maxAttempts?: number;
  signal?: AbortSignal;
}

/** A keep-alive agent for one worker's range reads: connections are reused across parts and retries. */
export function rangeAgent(url: string, maxSockets: number): http.Agent {
  const o = { keepAlive: true, maxSockets, keepAliveMsecs: 10_000 };
  return url.startsWith('https:') ? new https.Agent(o) : new http.Agent(o);
}

/** 5xx, 429 and a dropped connection are retried; anything else is an answer. */
const transient = (status: number) => status >= 500 || status === 429;

/**
 * A server artifact read by HTTP byte range (DESIGN §3.5): the inspector's few small reads are single range
 * requests; each upload part is one request streamed into the engine's pooled buffers as it is pulled, so
 * memory stays a few chunks per part in flight whatever the build's size. A dropped stream resumes from the
 * byte it reached, a bounded number of times.
 */
export function httpRangeSource(o: HttpSourceOptions): ByteSource {
  const attempts = o.maxAttempts ?? 5;

  async function get(start: number, end: number): Promise<IncomingMessage> {
    let fresh = false;
    for (let attempt = 1; ; attempt++) {
      const url = await o.url({ fresh });
      fresh = false;
      const res = await request(url, start, end).catch((err: Error) => err);
      if (res instanceof Error) {
        if (o.signal?.aborted || attempt >= attempts)
          throw new AscendError('NETWORK_ERROR', `the artifact could not be read from the server (${res.message})`, {
            cause: res,
          });
      } else if (res.statusCode === 206) return res;
      else {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status === 403) fresh = true;
        if (attempt >= attempts || (!transient(status) && status !== 403))
          throw new AscendError(
            status === 416 ? 'RANGE_NOT_SATISFIABLE' : 'NETWORK_ERROR',
            `the server answered ${status} to a read of bytes ${start}-${end} of the artifact`,
          );
      }
      await o.sleep(Math.min(4000, 250 * 2 ** (attempt - 1)), o.signal);
    }
  }

  function request(url: string, start: number, end: number): Promise<IncomingMessage> {
    const mod = url.startsWith('https:') ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.get(url, {
        agent: o.agent,
        headers: { authorization: `Bearer ${o.token}`, range: `bytes=${start}-${end}` },
        ...(o.signal ? { signal: o.signal } : {}),
        timeout: 60_000,
      });
      req.on('response', resolve);
      req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
      req.on('error', reject);
    });
  }

  function reader(start: number, length: number): RangeReader {
    let at = 0;
    let res: IncomingMessage | undefined;
    let chunks: AsyncIterator<Buffer> | undefined;
    let left: Buffer | undefined;
    let failures = 0;
    const drop = () => {
      res?.destroy();
      res = undefined;
      chunks = undefined;
    };
    async function next(): Promise<Buffer | undefined> {
      for (;;) {
        if (!chunks) {
          res = await get(start + at, start + length - 1);
          chunks = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        }
        try {
          const r = await chunks.next();
          if (r.done) {
            drop();
            if (at < length) throw new Error(`the stream ended at byte ${start + at}`);
            return undefined;
          }
          return r.value;
        } catch (err) {
          drop();
          if (o.signal?.aborted || ++failures >= attempts)
            throw new AscendError('NETWORK_ERROR', `the artifact stream broke (${(err as Error).message})`, {
              cause: err,
            });
          await o.sleep(Math.min(4000, 250 * 2 ** (failures - 1)), o.signal);
        }
      }
    }
    return {
      async read(buffer, offset, want) {
        const n = Math.min(want, length - at);
        if (n <= 0) return 0;
        left ??= await next();
        if (!left) return 0;
        const take = Math.min(n, left.length);
        left.copy(buffer, offset, 0, take);
        left = take < left.length ? left.subarray(take) : undefined;
        at += take;
        return take;
      },
      close: drop,
    };
  }

  return {
    name: o.name,
    size: o.size,
    // The artifact is addressed by its content: it never changes under the same name and size.
    mtimeMs: 0,
    async read(buffer, offset, length, position) {
      const n = Math.min(length, o.size - position);
      if (n <= 0) return { bytesRead: 0 };
      const r = reader(position, n);
      let got = 0;
      try {
        for (let k = await r.read(buffer, offset, n); k > 0; k = await r.read(buffer, offset + got, n - got)) got += k;
      } finally {
        r.close();
      }
      return { bytesRead: got };
    },
    range: reader,
    async close() {},
  };
}
