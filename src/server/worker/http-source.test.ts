import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../../core/byte-source.js';
import { httpRangeSource, rangeAgent } from './http-source.js';

/** A range server that misbehaves on demand: a 503, a 403 (expired URL), a stream cut halfway. */
const data = randomBytes(300_000);
let script: ('503' | '403' | 'cut' | 'ok')[] = [];
const seen: { url: string; range: string; auth: string }[] = [];
const server = http.createServer((req, res) => {
  seen.push({ url: req.url ?? '', range: req.headers.range ?? '', auth: req.headers.authorization ?? '' });
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')!;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const how = script.shift() ?? 'ok';
  if (how === '503' || how === '403') {
    res.writeHead(Number(how)).end();
    return;
  }
  res.writeHead(206, { 'content-length': String(end - start + 1) });
  if (how === 'cut') {
    res.write(data.subarray(start, start + Math.floor((end - start) / 2)));
    setTimeout(() => res.destroy(), 10);
    return;
  }
  res.end(data.subarray(start, end + 1));
});
let base = '';
let urls = 0;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function source(maxAttempts = 4) {
  return httpRangeSource({
    name: 'App.ipa',
    size: data.length,
    url: async (o) => `${base}/a?v=${o?.fresh ? ++urls : urls}`,
    token: 'ascw_test',
    agent: rangeAgent(base, 4),
    sleep: async () => {},
    maxAttempts,
  });
}

async function readAll(r: { read(b: Buffer, o: number, l: number): Promise<number> }, length: number) {
  const out = Buffer.alloc(length);
  let got = 0;
  for (let n = await r.read(out, got, 7000); n > 0; n = await r.read(out, got, 7000)) got += n;
  return out.subarray(0, got);
}

describe('httpRangeSource', () => {
  it('streams a part in one request, with the worker token beside the signed URL', async () => {
    seen.length = 0;
    script = [];
    const r = source().range(1000, 200_000);
    expect((await readAll(r, 200_000)).equals(data.subarray(1000, 201_000))).toBe(true);
    expect(seen).toEqual([{ url: '/a?v=0', range: 'bytes=1000-200999', auth: 'Bearer ascw_test' }]);
  });

  it('retries a 503, asks for a fresh URL after a 403, and resumes a cut stream from the byte it reached', async () => {
    seen.length = 0;
    script = ['503', '403', 'cut', 'ok'];
    const r = source().range(0, data.length);
    expect((await readAll(r, data.length)).equals(data)).toBe(true);
    expect(seen).toHaveLength(4);
    expect(seen[2]!.url).not.toBe(seen[1]!.url); // fresh signed URL after the 403
    const resumedAt = Number(/^bytes=(\d+)-/.exec(seen[3]!.range)![1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(seen[3]!.range).toBe(`bytes=${resumedAt}-${data.length - 1}`);
  });

  it('gives up after its bounded attempts with NETWORK_ERROR', async () => {
    script = ['503', '503', '503'];
    await expect(source(3).read(Buffer.alloc(10), 0, 10, 0)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    script = [];
  });

  it('reads at a position like a file does', async () => {
    const src = source();
    const buf = Buffer.alloc(50);
    expect((await src.read(buf, 0, 50, data.length - 20)).bytesRead).toBe(20);
    expect(buf.subarray(0, 20).equals(data.subarray(data.length - 20))).toBe(true);
  });
});

describe('openFileSource', () => {
  it('reads a file by position and by range', async () => {
    const src = await openFileSource(new URL(import.meta.url).pathname);
    try {
      const whole = await readAll(src.range(0, src.size), src.size);
      expect(whole.toString('utf8')).toContain('openFileSource');
      const b = Buffer.alloc(6);
      await src.read(b, 0, 6, 0);
      expect(b.toString()).toBe('import');
    } finally {
      await src.close();
    }
  });
});
