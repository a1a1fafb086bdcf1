import { afterEach } from 'vitest';
import type { FetchLike } from '../../src/asc/http/transport.js';

export interface Scripted {
  /** Expected "METHOD /path", or "METHOD /path?query" to compare the query too (decoded, in order; "METHOD /path?" for none). */
  expect: string;
  status?: number;
  body?: unknown;
  /** Answer these bytes as they are instead of a JSON `body` (an HTML page from a proxy, say). */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Throw a network error instead of answering. */
  networkError?: boolean;
  /** Checks the JSON body sent (deep equality). */
  json?: unknown;
}

/**
 * A fetch that answers from a script, in order. A request it did not expect — another method, path or query,
 * or one beyond the script — throws a ScriptViolation, which the client's transport does not take for a
 * network failure, so no layer retries it and it reaches the test as it is. Whatever the code under test does
 * with that error, the test fails after it (afterEach below) on any violation and on any scripted request
 * that was never sent.
 */
export interface ScriptedFetch extends FetchLike {
  calls: { method: string; url: string; headers: Record<string, string>; body?: string }[];
  /** Requests that did not match the script. */
  violations: string[];
  /** Script entries never reached. */
  remaining: () => number;
}

export class ScriptViolation extends Error {
  override readonly name = 'ScriptViolation';
}

export interface ScriptOptions {
  /** The test ends before the whole script is used, on purpose. */
  partial?: boolean;
  /** Leave this fetch out of the afterEach check (a test that provokes violations on purpose). */
  untracked?: boolean;
}

const tracked: { fetch: ScriptedFetch; partial: boolean }[] = [];

/** Throws when the fetch saw an unexpected request, or (unless `partial`) a scripted request was never sent. */
export function assertScriptDone(fetch: ScriptedFetch, opts: { partial?: boolean } = {}): void {
  const problems = [...fetch.violations];
  if (!opts.partial && fetch.remaining() > 0) problems.push(`${fetch.remaining()} scripted request(s) never sent`);
  if (problems.length) throw new ScriptViolation(`scripted fetch: ${problems.join('; ')}`);
}

afterEach(() => {
  const all = tracked.splice(0);
  for (const t of all) assertScriptDone(t.fetch, { partial: t.partial });
});

function decodeQuery(expect: string): string {
  const i = expect.indexOf('?');
  return `${expect.slice(0, i)}${decodeURIComponent(expect.slice(i))}`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([k, x]) => [k, canonical(x)]),
    );
  return v;
}

export function scriptedFetch(script: Scripted[], opts: ScriptOptions = {}): ScriptedFetch {
  const queue = [...script];
  const calls: ScriptedFetch['calls'] = [];
  const violations: string[] = [];
  const violation = (what: string): never => {
    violations.push(what);
    throw new ScriptViolation(`unexpected request: ${what}`);
  };
  const fn = (async (url: string, init: RequestInit) => {
    const method = init.method ?? 'GET';
    const headers = (init.headers ?? {}) as Record<string, string>;
    const body = init.body as string | undefined;
    calls.push({ method, url, headers, body });
    const next = queue.shift();
    const u = new URL(url);
    // The query is compared decoded (`filter[app]=1,2`), in the order sent, when the script names one.
    const withQuery = next?.expect.includes('?');
    const got = `${method} ${u.pathname}${withQuery ? `?${decodeURIComponent(u.search.slice(1))}` : ''}`;
    if (!next) return violation(`beyond the script: ${got}`);
    const want = withQuery ? decodeQuery(next.expect) : next.expect;
    if (want !== got) return violation(`got ${got}, expected ${want}`);
    if (next.json !== undefined && !sameJson(body === undefined ? undefined : JSON.parse(body), next.json))
      return violation(`${got} sent ${body}, expected ${JSON.stringify(next.json)}`);
    if (next.networkError) throw new TypeError('fetch failed', { cause: new Error('ECONNRESET') });
    return new Response(next.rawBody ?? (next.body === undefined ? null : JSON.stringify(next.body)), {
      status: next.status ?? 200,
      headers: { 'content-type': 'application/json', ...next.headers },
    });
  }) as ScriptedFetch;
  fn.calls = calls;
  fn.violations = violations;
  fn.remaining = () => queue.length;
  if (!opts.untracked) tracked.push({ fetch: fn, partial: Boolean(opts.partial) });
  return fn;
}
