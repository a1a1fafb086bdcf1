import { describe, expect, it } from 'vitest';
import { assertScriptDone, type Scripted, ScriptViolation, scriptedFetch } from '../../../test/helpers/fake-fetch.js';
import { FakeClock, seededRandom } from '../../core/clock.js';
import { DEFAULT_RETRY_POLICY } from '../../core/policy.js';
import type { TokenProvider } from '../../credentials/types.js';
import { createAscClient } from './client.js';
import { AscApiError, AscNetworkError } from './errors.js';
import { retryAfterMs } from './retry.js';
import { isNoAnswer } from './transport.js';

const tokens: TokenProvider = { token: async () => 't', invalidate: () => {} };

function setup(script: Scripted[], maxAttempts = DEFAULT_RETRY_POLICY.maxAttempts, untracked = false) {
  const fetch = scriptedFetch(script, { untracked });
  const clock = new FakeClock();
  const client = createAscClient({
    baseUrl: 'https://asc.test',
    tokens,
    fetch,
    clock,
    sleep: clock.sleep,
    random: seededRandom(7),
    retry: { maxAttempts },
  });
  return { fetch, clock, client };
}

const fail = (status: number, code: string) => ({ errors: [{ status: String(status), code, title: code }] });

describe('retry layer: what is sent again', () => {
  it('a POST answered 500 is not sent again: it surfaces at once for the caller to reconcile', async () => {
    const { fetch, clock, client } = setup([
      { expect: 'POST /v1/betaAppReviewSubmissions', status: 500, body: fail(500, 'UNEXPECTED_ERROR') },
    ]);
    const e = await client
      .request({ method: 'POST', path: '/v1/betaAppReviewSubmissions', body: { data: {} } })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AscApiError);
    expect(e).toMatchObject({ code: 'ASC_SERVER_ERROR', status: 500, exitCode: 9 });
    expect(fetch.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(fetch.violations).toEqual([]);
  });

  it('a POST answered 429 is sent again, after the rate-limit backoff, and its second answer is returned', async () => {
    const { fetch, clock, client } = setup([
      { expect: 'POST /v1/betaAppReviewSubmissions', status: 429, body: fail(429, 'RATE_LIMIT_EXCEEDED') },
      {
        expect: 'POST /v1/betaAppReviewSubmissions',
        status: 201,
        body: { data: { type: 'betaAppReviewSubmissions', id: 's1' } },
      },
    ]);
    const res = await client.request<{ data: { id: string } }>({
      method: 'POST',
      path: '/v1/betaAppReviewSubmissions',
      body: { data: {} },
    });
    expect(res.status).toBe(201);
    expect(res.body.data.id).toBe('s1');
    expect(fetch.calls.map((c) => c.body)).toEqual(['{"data":{}}', '{"data":{}}']);
    // The rate-limit base (2 s), jittered into [500, 2000] ms; the key-wide pause (1 s) may add to it.
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(1);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(500);
    expect(fetch.violations).toEqual([]);
  });

  it('a GET that loses its answer is sent again up to maxAttempts, then surfaces NETWORK_ERROR (exit 9)', async () => {
    const attempts = 4;
    const { fetch, clock, client } = setup(
      Array.from({ length: attempts }, () => ({ expect: 'GET /v1/builds/b1', networkError: true })),
      attempts,
    );
    const e = await client.request({ method: 'GET', path: '/v1/builds/b1' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AscNetworkError);
    expect(e).toMatchObject({ code: 'NETWORK_ERROR', exitCode: 9, ambiguous: false });
    expect((e as Error).message).toBe('GET /v1/builds/b1 got no answer from asc.test: ECONNRESET');
    expect(fetch.calls).toHaveLength(attempts);
    expect(clock.sleeps).toHaveLength(attempts - 1);
    expect(fetch.remaining()).toBe(0);
  });

  it('a PATCH that loses its answer is not sent again by the HTTP layer, and is marked ambiguous', async () => {
    const { fetch, client } = setup([{ expect: 'PATCH /v1/builds/b1', networkError: true }]);
    const e = await client
      .request({ method: 'PATCH', path: '/v1/builds/b1', body: { data: {} } })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'NETWORK_ERROR', ambiguous: true });
    expect(fetch.calls).toHaveLength(1);
  });

  it('a 4xx other than 429 is final for any method: ASC_REQUEST_INVALID (exit 1) for a request Apple calls malformed', async () => {
    const { fetch, client } = setup([
      {
        expect: 'GET /v1/builds',
        status: 400,
        body: {
          errors: [
            {
              status: '400',
              code: 'PARAMETER_ERROR.INVALID',
              title: 'A parameter has an invalid value',
              detail: "'bogus' is not a valid field name",
              source: { parameter: 'fields[builds]' },
            },
          ],
        },
      },
    ]);
    const e = await client.request({ method: 'GET', path: '/v1/builds' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ASC_REQUEST_INVALID', exitCode: 1, status: 400 });
    expect((e as AscApiError).errors[0]?.source?.parameter).toBe('fields[builds]');
    expect((e as Error).message).toBe(
      "Apple answered 400 to GET /v1/builds — PARAMETER_ERROR.INVALID: 'bogus' is not a valid field name",
    );
    expect(fetch.calls).toHaveLength(1);
  });

  it('an unexpected request fails the test at once: the fake’s error is neither a network error nor retried', async () => {
    // Untracked: this test provokes the violation that fake-fetch.ts's afterEach would otherwise fail it on.
    const { fetch, clock, client } = setup([{ expect: 'GET /v1/apps', body: { data: [] } }], 5, true);
    const e = await client.request({ method: 'GET', path: '/v1/builds' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ScriptViolation);
    expect(e).not.toBeInstanceOf(AscNetworkError);
    expect(fetch.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(fetch.violations).toEqual(['got GET /v1/builds, expected GET /v1/apps']);
    expect(() => assertScriptDone(fetch)).toThrow(/scripted fetch: got GET \/v1\/builds, expected GET \/v1\/apps/);
  });

  it('a scripted request that was never sent fails the check too, unless the script is marked partial', async () => {
    const { fetch, client } = setup(
      [
        { expect: 'GET /v1/apps', body: { data: [] } },
        { expect: 'GET /v1/apps', body: { data: [] } },
      ],
      5,
      true,
    );
    await client.request({ method: 'GET', path: '/v1/apps' });
    expect(() => assertScriptDone(fetch)).toThrow('scripted fetch: 1 scripted request(s) never sent');
    expect(() => assertScriptDone(fetch, { partial: true })).not.toThrow();
  });
});

describe('what counts as "no answer"', () => {
  it('undici’s TypeError, the timeout, and socket error codes; not any other error', () => {
    expect(isNoAnswer(new TypeError('fetch failed', { cause: new Error('ECONNRESET') }))).toBe(true);
    expect(isNoAnswer(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    expect(isNoAnswer(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isNoAnswer(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }))).toBe(true);
    expect(isNoAnswer(new Error('a bug'))).toBe(false);
    expect(isNoAnswer(new ScriptViolation('unexpected'))).toBe(false);
    expect(isNoAnswer(Object.assign(new Error('x'), { code: 'ERR_ASSERTION_' }))).toBe(false);
    expect(isNoAnswer(undefined)).toBe(false);
  });
});

describe('Retry-After', () => {
  const res = (v?: string) => ({
    status: 503,
    text: '',
    headers: new Headers(v === undefined ? {} : { 'retry-after': v }),
  });
  it('reads seconds and HTTP dates, never a negative wait, and ignores what it cannot read', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(retryAfterMs(res('7'), now)).toBe(7000);
    expect(retryAfterMs(res(' 0 '), now)).toBe(0);
    expect(retryAfterMs(res('Thu, 01 Jan 2026 12:00:30 GMT'), now)).toBe(30_000);
    expect(retryAfterMs(res('Thu, 01 Jan 2026 11:00:00 GMT'), now)).toBe(0);
    expect(retryAfterMs(res('soon'), now)).toBeUndefined();
    expect(retryAfterMs(res('-5'), now)).toBeUndefined();
    expect(retryAfterMs(res(), now)).toBeUndefined();
  });
});
