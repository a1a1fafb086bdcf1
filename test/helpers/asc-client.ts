import { type AscClient, createAscClient } from '../../src/asc/http/client.js';
import { FakeClock, seededRandom } from '../../src/core/clock.js';
import type { TokenProvider } from '../../src/credentials/types.js';
import { type Scripted, type ScriptedFetch, type ScriptOptions, scriptedFetch } from './fake-fetch.js';

export const BASE = 'https://asc.test';

/** A client whose every request is answered by a script; time runs on a fake clock. */
export function scriptedClient(
  script: Scripted[],
  opts: ScriptOptions = {},
): { client: AscClient; fetch: ScriptedFetch; clock: FakeClock } {
  const fetch = scriptedFetch(script, opts);
  const clock = new FakeClock();
  const tokens: TokenProvider = { token: async () => 'test-token', invalidate: () => {} };
  const client = createAscClient({
    baseUrl: BASE,
    tokens,
    fetch,
    clock,
    sleep: clock.sleep,
    random: seededRandom(3),
  });
  return { client, fetch, clock };
}

/** One page of a collection as Apple sends it. */
export function page(
  items: { type: string; id: string; attributes?: Record<string, unknown>; relationships?: unknown }[],
  opts: { next?: string; included?: unknown[] } = {},
) {
  return {
    data: items,
    ...(opts.included ? { included: opts.included } : {}),
    links: { self: `${BASE}/v1/x`, ...(opts.next ? { next: opts.next } : {}) },
    meta: { paging: { total: items.length, limit: 200 } },
  };
}

/** A single-resource document. */
export function doc(type: string, id: string, attributes: Record<string, unknown> = {}, relationships?: unknown) {
  return { data: { type, id, attributes, ...(relationships ? { relationships } : {}) }, links: { self: `${BASE}/x` } };
}

/** Apple's error body. */
export function appleError(status: number, code: string, detail = code) {
  return { errors: [{ status: String(status), code, title: code, detail }] };
}
