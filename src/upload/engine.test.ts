import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock, seededRandom } from '../core/clock.js';
import { DEFAULT_RETRY_POLICY } from '../core/policy.js';
import { type PartTransport, uploadParts } from './engine.js';
import { planParts } from './operations.js';

const dir = mkdtempSync(join(tmpdir(), 'ascend-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(size: number): { path: string; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  const path = join(dir, `f-${size}-${Math.random()}`);
  writeFileSync(path, bytes);
  return { path, bytes };
}
const ops = (size: number, part: number) =>
  Array.from({ length: Math.ceil(size / part) }, (_, i) => ({
    method: 'PUT',
    url: `https://upload.test/part/${i + 1}?sig=secret`,
    offset: i * part,
    length: Math.min(part, size - i * part),
    partNumber: i + 1,
    requestHeaders: [{ name: 'Content-Type', value: 'application/octet-stream' }],
  }));

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A fake part server: keeps what it received, answers from a script of statuses per part, fails on anything unexpected. */
function fakeServer(script: Record<number, (number | 'reset')[]> = {}) {
  const received = new Map<number, Buffer>();
  const calls: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const transport: PartTransport = async (part, body) => {
    calls.push(part.partNumber);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (part.method !== 'PUT' || part.headers['content-type'] !== 'application/octet-stream')
        throw new Error('unexpected request shape');
      const data = await collect(body);
      if (data.length !== part.length)
        throw new Error(`part ${part.partNumber}: got ${data.length} bytes, expected ${part.length}`);
      const next = script[part.partNumber]?.shift() ?? 200;
      if (next === 'reset') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      if (next === 200) received.set(part.partNumber, data);
      return { status: next };
    } finally {
      inFlight--;
    }
  };
  return { transport, received, calls, maxInFlight: () => maxInFlight };
}

/**
 * A transport whose first part is answered only once the other parts have read `bytesAhead` bytes of their
 * bodies: the others go ahead of a slow first part by construction, not by a timer.
 */
function slowFirstPart(server: ReturnType<typeof fakeServer>, bytesAhead: number): PartTransport {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let ahead = 0;
  return async (p, body, signal) => {
    if (p.partNumber === 1) {
      await gate;
      return server.transport(p, body, signal);
    }
    const counted = Readable.from(
      (async function* () {
        for await (const c of body) {
          ahead += (c as Buffer).length;
          if (ahead >= bytesAhead) release();
          yield c;
        }
      })(),
    );
    return server.transport(p, counted, signal);
  };
}

const clock = new FakeClock();
const base = { sleep: clock.sleep, random: seededRandom(3), now: () => clock.now() };

describe('upload engine', () => {
  it('sends every part exactly once, in parallel, and computes the MD5 of the whole file', async () => {
    const { path, bytes } = file(1_000_003);
    const server = fakeServer();
    const progress: number[] = [];
    const r = await uploadParts({
      ...base,
      file: path,
      parts: planParts(ops(bytes.length, 100_000), bytes.length),
      concurrency: 4,
      transport: server.transport,
      chunkSize: 16_384,
      onProgress: (s) => progress.push(s),
    });
    expect(r.md5).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(Buffer.concat([...server.received.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b))).toEqual(bytes);
    expect(server.calls.sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(server.maxInFlight()).toBe(4);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1]!)).toBe(true);
  });

  it('retries a part on 5xx, 429 and resets with backoff, hashing each byte once', async () => {
    const { path, bytes } = file(300_000);
    const server = fakeServer({ 1: [503, 'reset'], 2: [429] });
    const r = await uploadParts({
      ...base,
      file: path,
      parts: planParts(ops(bytes.length, 100_000), bytes.length),
      concurrency: 2,
      transport: server.transport,
    });
    expect(r.md5).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(server.calls.filter((c) => c === 1)).toHaveLength(3);
    expect(server.calls.filter((c) => c === 2)).toHaveLength(2);
    expect(r.attempts).toBe(6);
  });

  it('gives up on a part after maxAttempts, and a 4xx is not retried', async () => {
    const { path, bytes } = file(200_000);
    const always = fakeServer({ 2: [500, 500, 500] });
    await expect(
      uploadParts({
        ...base,
        file: path,
        parts: planParts(ops(bytes.length, 100_000), bytes.length),
        concurrency: 2,
        transport: always.transport,
        maxAttempts: 3,
      }),
    ).rejects.toMatchObject({
      code: 'UPLOAD_PART_FAILED',
    });
    const forbidden = fakeServer({ 1: [403] });
    await expect(
      uploadParts({
        ...base,
        file: path,
        parts: planParts(ops(bytes.length, 100_000), bytes.length),
        concurrency: 1,
        transport: forbidden.transport,
      }),
    ).rejects.toMatchObject({
      code: 'UPLOAD_PART_FAILED',
    });
    expect(forbidden.calls.filter((c) => c === 1)).toHaveLength(1);
  });

  it('resumes: parts already done are read for the checksum but not sent again', async () => {
    const { path, bytes } = file(500_000);
    const server = fakeServer();
    const r = await uploadParts({
      ...base,
      file: path,
      parts: planParts(ops(bytes.length, 100_000), bytes.length),
      concurrency: 3,
      transport: server.transport,
      done: new Set([1, 3, 5]),
    });
    expect(server.calls.sort()).toEqual([2, 4]);
    expect(r.md5).toBe(createHash('md5').update(bytes).digest('hex'));
  });

  it('holds at most a window of parts for in-order hashing, even when the first part is slow', async () => {
    const part = 64 * 1024;
    const { path, bytes } = file(part * 40);
    const slowFirst = slowFirstPart(fakeServer(), 3 * part);
    const r = await uploadParts({
      ...base,
      file: path,
      parts: planParts(ops(bytes.length, part), bytes.length),
      concurrency: 4,
      transport: slowFirst,
      chunkSize: 4096,
    });
    expect(r.md5).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(r.peakBufferedBytes).toBeLessThanOrEqual(4 * part);
    expect(r.peakBufferedBytes).toBeGreaterThan(0);
  });
});

describe('planParts', () => {
  it('accepts operations that tile the file in any order, and refuses gaps, overlaps and wrong totals', () => {
    const good = ops(250, 100).reverse();
    expect(planParts(good, 250).map((p) => [p.index, p.offset, p.length])).toEqual([
      [0, 0, 100],
      [1, 100, 100],
      [2, 200, 50],
    ]);
    const gap = ops(300, 100).filter((o) => o.partNumber !== 2);
    expect(() => planParts(gap, 300)).toThrow(/bytes 100–199 of the file uncovered/);
    const overlap = [...ops(200, 100), { ...ops(200, 100)[1]!, offset: 50, partNumber: 3 }];
    expect(() => planParts(overlap, 200)).toThrow(/overlap/);
    expect(() => planParts(ops(200, 100), 250)).toThrow(/cover 200 bytes but the file has 250/);
    expect(() => planParts([], 1)).toThrow(/no upload operations/);
    expect(() => planParts(gap, 300)).toThrow(expect.objectContaining({ code: 'UPLOAD_OPERATIONS_INVALID' }));
  });
});

describe('upload engine: hold budget', () => {
  it('pauses parts ahead of a slow first part once the hold budget is reached', async () => {
    const part = 64 * 1024;
    const { path, bytes } = file(part * 20);
    const budget = 100 * 1024;
    const slowFirst = slowFirstPart(fakeServer(), budget);
    const chunk = 4096;
    const r = await uploadParts({
      ...base,
      file: path,
      parts: planParts(ops(bytes.length, part), bytes.length),
      concurrency: 8,
      transport: slowFirst,
      chunkSize: chunk,
      holdBudget: budget,
    });
    expect(r.md5).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(r.peakBufferedBytes).toBeLessThanOrEqual(budget + 8 * chunk);
  });
});

describe('upload engine: listeners, progress and backoff', () => {
  it('uploads 40 parts at 16 at a time with one abort listener, and Node prints no MaxListeners warning', async () => {
    const { path, bytes } = file(40 * 8192);
    const server = fakeServer();
    const outer = new AbortController();
    let most = 0;
    const counting: PartTransport = async (p, body, signal) => {
      most = Math.max(most, getEventListeners(outer.signal, 'abort').length);
      return server.transport(p, body, signal);
    };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const r = await uploadParts({
        ...base,
        file: path,
        parts: planParts(ops(bytes.length, 8192), bytes.length),
        concurrency: 16,
        transport: counting,
        chunkSize: 1024,
        signal: outer.signal,
      });
      expect(r.md5).toBe(createHash('md5').update(bytes).digest('hex'));
      // Warnings are emitted on a later tick: let them arrive before looking.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(server.maxInFlight()).toBe(16);
    expect(most).toBe(1);
    expect(getEventListeners(outer.signal, 'abort')).toHaveLength(0);
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });

  it("an abort of the caller's signal stops parts in flight and the upload rejects with its reason", async () => {
    const { path, bytes } = file(4 * 8192);
    const outer = new AbortController();
    const hanging: PartTransport = (_p, body, signal) =>
      new Promise((_resolve, reject) => {
        if (signal.aborted) return reject(new Error('aborted'));
        body.resume();
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        outer.abort(new Error('interrupted by the user'));
      });
    await expect(
      uploadParts({
        ...base,
        file: path,
        parts: planParts(ops(bytes.length, 8192), bytes.length),
        concurrency: 2,
        transport: hanging,
        signal: outer.signal,
      }),
    ).rejects.toThrow('interrupted by the user');
  });

  it('counts a part as done only when its PUT is answered; bytes read into it before are "sending"', async () => {
    const part = 10_000;
    const { path, bytes } = file(3 * part);
    const server = fakeServer();
    const seen: { acked: number; sending: number }[] = [];
    let atAnswer: { acked: number; sending: number } | undefined;
    const observed: PartTransport = async (p, body, signal) => {
      const data = await collect(body);
      // The whole part has been read and handed to the socket, yet no answer has come back.
      if (p.partNumber === 2) atAnswer = seen.at(-1);
      return server.transport(p, Readable.from([data]), signal);
    };
    await uploadParts({
      ...base,
      file: path,
      parts: planParts(ops(bytes.length, part), bytes.length),
      concurrency: 1,
      transport: observed,
      chunkSize: 2500,
      done: new Set([1]),
      onProgress: (acked, _total, sending) => seen.push({ acked, sending }),
    });
    // Part 1 was sent by an earlier run: acknowledged from the first report on.
    expect(seen[0]).toEqual({ acked: part, sending: 0 });
    expect(atAnswer).toEqual({ acked: part, sending: part });
    expect(seen.at(-1)).toEqual({ acked: 3 * part, sending: 0 });
    expect(seen.every((s) => s.acked + s.sending <= 3 * part)).toBe(true);
  });

  it('waits between attempts as the shared request policy says for an idempotent request', async () => {
    const { path, bytes } = file(100_000);
    const fake = new FakeClock();
    const server = fakeServer({ 1: [503, 'reset', 500] });
    await uploadParts({
      file: path,
      parts: planParts(ops(bytes.length, 100_000), bytes.length),
      concurrency: 1,
      transport: server.transport,
      sleep: fake.sleep,
      random: () => 1,
      now: () => fake.now(),
      retryPolicy: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 40, maxDelayMs: 100 },
    });
    // random() = 1 gives the ceiling of each full-jitter delay: min(cap, base·2^attempt).
    expect(fake.sleeps).toEqual([40, 80, 100]);
  });

  it('a part refused with 403 after its operation expired stops with UPLOAD_EXPIRED (exit 5), not a retry', async () => {
    const { path, bytes } = file(20_000);
    const fake = new FakeClock();
    const expired = new Date(fake.now() - 1000).toISOString();
    const server = fakeServer({ 1: [403] });
    await expect(
      uploadParts({
        file: path,
        parts: planParts(
          ops(bytes.length, 20_000).map((o) => ({ ...o, expiration: expired })),
          bytes.length,
        ),
        concurrency: 1,
        transport: server.transport,
        sleep: fake.sleep,
        random: () => 0.5,
        now: () => fake.now(),
      }),
    ).rejects.toMatchObject({ code: 'UPLOAD_EXPIRED', exitCode: 5 });
    expect(server.calls).toEqual([1]);
  });
});
