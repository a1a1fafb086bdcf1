import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { TokenProvider } from '../../credentials/types.js';
import { createAscClient } from './client.js';
import type { FetchLike } from './transport.js';

const tokens: TokenProvider = { token: async () => 't', invalidate: () => {} };

/** Answers GET /v1/apps only, with the given response; anything else fails the test. */
function answering(make: () => Response): FetchLike & { calls: number } {
  const f = (async (url: string, init: RequestInit) => {
    f.calls++;
    if (init.method !== 'GET' || new URL(url).pathname !== '/v1/apps')
      throw new Error(`unexpected ${init.method} ${url}`);
    return make();
  }) as FetchLike & { calls: number };
  f.calls = 0;
  return f;
}

function client(fetch: FetchLike, maxResponseBytes: number) {
  const clock = new FakeClock();
  return createAscClient({ baseUrl: 'https://asc.test', tokens, fetch, clock, sleep: clock.sleep, maxResponseBytes });
}

/** A body that keeps coming, chunk after chunk, and declares no length. */
function endless(chunk: number, pulled: { n: number }): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(c) {
      pulled.n++;
      c.enqueue(new Uint8Array(chunk).fill(0x20));
    },
  });
}

describe('answers are bounded in size', () => {
  it('an answer within the bound is read whole', async () => {
    const body = JSON.stringify({ data: [{ type: 'apps', id: '1' }] });
    const f = answering(() => new Response(body, { status: 200 }));
    const res = await client(f, body.length).request<{ data: { id: string }[] }>({ method: 'GET', path: '/v1/apps' });
    expect(res.body.data[0]?.id).toBe('1');
  });

  it('a declared length over the bound is refused before the body is read, and not retried', async () => {
    const pulled = { n: 0 };
    const f = answering(
      () =>
        new Response(endless(1024, pulled), { status: 200, headers: { 'content-length': String(10 * 1024 * 1024) } }),
    );
    const e = await client(f, 1024 * 1024)
      .request({ method: 'GET', path: '/v1/apps' })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ASC_RESPONSE_TOO_LARGE', exitCode: 9 });
    expect((e as Error).message).toBe(
      'the answer to GET /v1/apps declares 10485760 bytes, more than the 1 MiB an answer may hold',
    );
    expect(f.calls).toBe(1);
    expect(pulled.n).toBeLessThanOrEqual(2);
  });

  it('an answer that keeps coming without a declared length is cut off at the bound', async () => {
    const pulled = { n: 0 };
    const f = answering(() => new Response(endless(64 * 1024, pulled), { status: 200 }));
    const e = await client(f, 1024 * 1024)
      .request({ method: 'GET', path: '/v1/apps' })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ASC_RESPONSE_TOO_LARGE' });
    expect((e as Error).message).toContain('kept coming');
    // 1 MiB in 64 KiB chunks: it stopped reading right after the bound, not at the end of an endless stream.
    expect(pulled.n).toBeLessThanOrEqual(1024 / 64 + 3);
    expect(f.calls).toBe(1);
  });
});
