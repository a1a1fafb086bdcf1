import type { FetchLike } from '../../src/asc/http/transport.js';

export interface Scripted {
  /** Expected "METHOD /path" (query ignored unless given), or a predicate. */
  expect: string;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Throw a network error instead of answering. */
  networkError?: boolean;
}

/**
 * A fetch that answers from a script, in order, and fails the test on any request it did not expect or
 * on a request beyond the script.
 */
export interface ScriptedFetch extends FetchLike {
  calls: { method: string; url: string; headers: Record<string, string>; body?: string }[];
  /** Requests that did not match the script; a test asserts this stays empty (transport errors may be retried). */
  violations: string[];
  /** Script entries never reached. */
  remaining: () => number;
}

export function scriptedFetch(script: Scripted[]): ScriptedFetch {
  const queue = [...script];
  const calls: ScriptedFetch['calls'] = [];
  const violations: string[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    const method = init.method ?? 'GET';
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push({ method, url, headers, body: init.body as string | undefined });
    const next = queue.shift();
    const u = new URL(url);
    const got = `${method} ${u.pathname}${next?.expect.includes('?') ? u.search : ''}`;
    if (!next) {
      violations.push(`beyond the script: ${got}`);
      throw new Error(`unexpected request beyond the script: ${got}`);
    }
    if (next.expect !== got) {
      violations.push(`got ${got}, expected ${next.expect}`);
      throw new Error(`unexpected request: got ${got}, expected ${next.expect}`);
    }
    if (next.networkError) throw new TypeError('fetch failed', { cause: new Error('ECONNRESET') });
    return new Response(next.body === undefined ? null : JSON.stringify(next.body), {
      status: next.status ?? 200,
      headers: { 'content-type': 'application/json', ...next.headers },
    });
  }) as ScriptedFetch;
  fn.calls = calls;
  fn.violations = violations;
  fn.remaining = () => queue.length;
  return fn;
}
