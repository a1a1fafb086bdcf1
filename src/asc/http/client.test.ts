import { describe, expect, it } from 'vitest';
import { type Scripted, scriptedFetch } from '../../../test/helpers/fake-fetch.js';
import { FakeClock, seededRandom } from '../../core/clock.js';
import type { TokenProvider } from '../../credentials/types.js';
import { createAscClient } from './client.js';
import { AscApiError, AscNetworkError } from './errors.js';
import { collect, paginate } from './paginate.js';

const BASE = 'https://asc.test';
// Every test here also fails, after it ends, on any request its script did not expect and on any scripted
// request never sent (the afterEach in test/helpers/fake-fetch.ts).

function tokens(): TokenProvider & { minted: number; invalidated: string[] } {
  let n = 0;
  const invalidated: string[] = [];
  let current: string | undefined;
  return {
    get minted() {
      return n;
    },
    invalidated,
    async token() {
      current ??= `token-${++n}`;
      return current;
    },
    invalidate(t) {
      invalidated.push(t);
      if (t === current) current = undefined;
    },
  };
}

function setup(script: Scripted[]) {
  const fetch = scriptedFetch(script);
  const clock = new FakeClock();
  const tp = tokens();
  const client = createAscClient({
    baseUrl: BASE,
    tokens: tp,
    fetch,
    clock,
    sleep: clock.sleep,
    random: seededRandom(1),
  });
  return { fetch, clock, tp, client };
}

const err = (status: number, code: string, detail = 'x') => ({
  errors: [{ status: String(status), code, title: code, detail }],
});
const page = (ids: string[], next?: string) => ({
  data: ids.map((id) => ({ type: 'apps', id })),
  links: { self: `${BASE}/v1/apps`, ...(next ? { next } : {}) },
  meta: { paging: { total: 5, limit: 2 } },
});

describe('request(): retry', () => {
  it('retries GET on 5xx, 429 and network errors with jittered exponential backoff, then succeeds', async () => {
    const { fetch, clock, client } = setup([
      { expect: 'GET /v1/apps', status: 503, body: err(503, 'UNEXPECTED_ERROR') },
      { expect: 'GET /v1/apps', networkError: true },
      { expect: 'GET /v1/apps', status: 500, body: err(500, 'UNEXPECTED_ERROR') },
      { expect: 'GET /v1/apps', status: 200, body: page(['1']) },
    ]);
    const res = await client.request<{ data: unknown[] }>({ method: 'GET', path: '/v1/apps' });
    expect(res.body.data).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(3);
    // Full jitter between a quarter and all of base·2^n.
    clock.sleeps.forEach((ms, n) => {
      expect(ms).toBeGreaterThanOrEqual((500 * 2 ** n) / 4);
      expect(ms).toBeLessThanOrEqual(500 * 2 ** n);
    });
    expect(fetch.violations).toEqual([]);
  });

  it('honours Retry-After and waits longer on 429', async () => {
    const { clock, client } = setup([
      { expect: 'GET /v1/apps', status: 429, body: err(429, 'RATE_LIMIT_EXCEEDED'), headers: { 'retry-after': '7' } },
      { expect: 'GET /v1/apps', status: 429, body: err(429, 'RATE_LIMIT_EXCEEDED') },
      { expect: 'GET /v1/apps', status: 200, body: page([]) },
    ]);
    await client.request({ method: 'GET', path: '/v1/apps' });
    expect(clock.sleeps[0]).toBe(7000);
    expect(clock.sleeps[1]).toBeGreaterThanOrEqual(1000); // 2 s base · 2^1 / 4
  });

  it('gives up after maxAttempts with the last error, and exposes the rate budget', async () => {
    const script: Scripted[] = Array.from({ length: 5 }, () => ({
      expect: 'GET /v1/apps',
      status: 429,
      body: err(429, 'RATE_LIMIT_EXCEEDED'),
      headers: { 'x-rate-limit': 'user-hour-lim:3600;user-hour-rem:0;' },
    }));
    const { fetch, client } = setup(script);
    const e = await client.request({ method: 'GET', path: '/v1/apps' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AscApiError);
    expect(e).toMatchObject({ code: 'ASC_RATE_LIMITED', exitCode: 10, status: 429 });
    expect(client.rateLimit.budget).toMatchObject({ limit: 3600, remaining: 0 });
    expect(fetch.remaining()).toBe(0);
  });

  it('never retries a POST: a 5xx surfaces at once, a lost answer is an ambiguous network error', async () => {
    const { fetch, clock, client } = setup([
      { expect: 'POST /v1/buildUploads', status: 500, body: err(500, 'UNEXPECTED_ERROR') },
    ]);
    await expect(client.request({ method: 'POST', path: '/v1/buildUploads', body: {} })).rejects.toMatchObject({
      code: 'ASC_SERVER_ERROR',
    });
    expect(fetch.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    const s2 = setup([{ expect: 'PATCH /v1/buildUploadFiles/1', networkError: true }]);
    const e = await s2.client
      .request({ method: 'PATCH', path: '/v1/buildUploadFiles/1', body: {} })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AscNetworkError);
    expect((e as AscNetworkError).ambiguous).toBe(true);
    expect(s2.fetch.calls).toHaveLength(1);
  });

  it('retries a write on 429 only: Apple refuses a rate-limited request before acting on it', async () => {
    const { fetch, client } = setup([
      { expect: 'POST /v1/buildUploads', status: 429, body: err(429, 'RATE_LIMIT_EXCEEDED') },
      { expect: 'POST /v1/buildUploads', status: 201, body: { data: { type: 'buildUploads', id: 'u1' } } },
    ]);
    const res = await client.request<{ data: { id: string } }>({ method: 'POST', path: '/v1/buildUploads', body: {} });
    expect(res.body.data.id).toBe('u1');
    expect(fetch.calls).toHaveLength(2);
  });
});

describe('request(): auth', () => {
  it('sends the bearer token; on 401 mints once more and re-sends once (any method)', async () => {
    const { fetch, tp, client } = setup([
      { expect: 'POST /v1/buildUploads', status: 401, body: err(401, 'NOT_AUTHORIZED') },
      { expect: 'POST /v1/buildUploads', status: 201, body: { data: { type: 'buildUploads', id: 'u1' } } },
    ]);
    await client.request({ method: 'POST', path: '/v1/buildUploads', body: { data: {} } });
    expect(fetch.calls.map((c) => c.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(tp.invalidated).toEqual(['token-1']);
  });

  it('a second 401 is final: exit 3 with Apple’s explanation', async () => {
    const { fetch, client } = setup([
      {
        expect: 'GET /v1/apps',
        status: 401,
        body: err(401, 'NOT_AUTHORIZED', 'Provide a properly configured and signed bearer token'),
      },
      {
        expect: 'GET /v1/apps',
        status: 401,
        body: err(401, 'NOT_AUTHORIZED', 'Provide a properly configured and signed bearer token'),
      },
    ]);
    const e = (await client.request({ method: 'GET', path: '/v1/apps' }).catch((x: unknown) => x)) as AscApiError;
    expect(e.code).toBe('ASC_UNAUTHORIZED');
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe(
      'Apple answered 401 to GET /v1/apps — NOT_AUTHORIZED: Provide a properly configured and signed bearer token',
    );
    expect(fetch.calls).toHaveLength(2);
  });
});

describe('AscApiError', () => {
  it('keeps Apple’s body and matches codes by prefix, including associated errors', () => {
    const e = new AscApiError('POST', '/v1/x', 409, [
      {
        status: '409',
        code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
        title: 't',
        source: { pointer: '/data/attributes/versionString' },
        meta: {
          associatedErrors: { '/v1/y': [{ status: '409', code: 'STATE_ERROR.ENTITY_STATE_INVALID', title: 'u' }] },
        },
      },
    ]);
    expect(e.hasCode('ENTITY_ERROR')).toBe(true);
    expect(e.hasCode('ENTITY_ERROR.ATTRIBUTE')).toBe(true);
    expect(e.hasCode('ENTITY_ERROR.ATTR')).toBe(false);
    expect(e.hasCode('STATE_ERROR')).toBe(true);
    expect(e.errors[0]?.source?.pointer).toBe('/data/attributes/versionString');
    expect(e).toMatchObject({ code: 'ASC_CONFLICT', isConflict: true, exitCode: 5 });
  });

  it('tells the 403 families apart: role, agreement, other', () => {
    const role = new AscApiError('GET', '/v1/users', 403, [
      {
        status: '403',
        code: 'FORBIDDEN_ERROR',
        title: 'forbidden',
        detail: 'The API key in use does not allow this request',
      },
    ]);
    expect(role).toMatchObject({
      isForbiddenRole: true,
      isAgreementMissing: false,
      code: 'ASC_FORBIDDEN_ROLE',
      exitCode: 3,
    });
    const agr = new AscApiError('GET', '/v1/apps', 403, [
      { status: '403', code: 'FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED', title: 'agreement' },
    ]);
    expect(agr).toMatchObject({ isAgreementMissing: true, isForbiddenRole: false, code: 'ASC_AGREEMENT_MISSING' });
    const other = new AscApiError('GET', '/v1/apps', 403, [
      { status: '403', code: 'FORBIDDEN_ERROR', title: 'This request is forbidden for security reasons' },
    ]);
    expect(other.code).toBe('ASC_FORBIDDEN');
    expect(new AscApiError('GET', '/v1/apps/1', 404, []).isNotFound).toBe(true);
  });
});

describe('pagination', () => {
  it('follows links.next verbatim over 3+ pages, always sending limit', async () => {
    const n2 = `${BASE}/v1/apps?limit=2&cursor=Mg`;
    const n3 = `${BASE}/v1/apps?limit=2&cursor=NA`;
    const { fetch, client } = setup([
      { expect: 'GET /v1/apps?limit=2&filter%5BbundleId%5D=a%2Cb', body: page(['1', '2'], n2) },
      { expect: 'GET /v1/apps?limit=2&cursor=Mg', body: page(['3', '4'], n3) },
      { expect: 'GET /v1/apps?limit=2&cursor=NA', body: page(['5']) },
    ]);
    const pages: string[][] = [];
    for await (const p of paginate<{ id: string }>(client, '/v1/apps', { limit: 2, 'filter[bundleId]': ['a', 'b'] }))
      pages.push(p.data.map((d) => d.id));
    expect(pages).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect(fetch.violations).toEqual([]);
  });

  it('stops on a repeated next URL instead of looping', async () => {
    const n2 = `${BASE}/v1/apps?cursor=same`;
    const { client } = setup([
      { expect: 'GET /v1/apps', body: page(['1'], n2) },
      { expect: 'GET /v1/apps', body: page(['2'], n2) },
    ]);
    await expect(collect(client, '/v1/apps')).rejects.toMatchObject({ code: 'PAGINATION_LOOP' });
  });

  it('never sends the token to another origin named by a next link', async () => {
    const { fetch, client } = setup([
      { expect: 'GET /v1/apps', body: page(['1'], 'https://evil.test/v1/apps?cursor=x') },
    ]);
    await expect(collect(client, '/v1/apps')).rejects.toThrow(/refusing to follow a link to https:\/\/evil\.test/);
    expect(fetch.calls).toHaveLength(1);
  });

  it('maxItems stops early and shrinks the page size', async () => {
    const { fetch, client } = setup([
      { expect: 'GET /v1/apps?limit=1', body: page(['1'], `${BASE}/v1/apps?cursor=x`) },
    ]);
    const { data } = await collect(client, '/v1/apps', {}, { maxItems: 1 });
    expect(data).toHaveLength(1);
    expect(fetch.calls).toHaveLength(1);
  });
});
