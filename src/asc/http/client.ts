import { type Clock, type Random, realSleep, type Sleep, systemClock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import type { TokenProvider } from '../../credentials/types.js';
import { authLayer } from './auth.js';
import { AscApiError, parseAppleErrors } from './errors.js';
import { RateLimitTracker } from './rate-limit.js';
import { DEFAULT_RETRY, type RetryOptions, retryLayer } from './retry.js';
import { type FetchLike, fetchTransport } from './transport.js';
import type { AscRequest, Handler, PreparedRequest, QueryValue } from './types.js';

export const APPLE_API_URL = 'https://api.appstoreconnect.apple.com';

export interface AscClientOptions {
  baseUrl?: string;
  tokens: TokenProvider;
  fetch?: FetchLike;
  clock?: Clock;
  sleep?: Sleep;
  random?: Random;
  logger?: Logger;
  retry?: Partial<RetryOptions>;
  /** Share one tracker between clients of the same key so they see one budget. */
  rateLimit?: RateLimitTracker;
  timeoutMs?: number;
  /** The most bytes one answer may hold (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

export interface AscResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface AscClient {
  readonly baseUrl: string;
  readonly rateLimit: RateLimitTracker;
  /** Sends one request through auth → rate-limit tracking → retry → transport; throws AscApiError on non-2xx. */
  request<T>(req: AscRequest): Promise<AscResponse<T>>;
  /** Counts requests that reached the transport (retries and re-sends included). */
  readonly sent: number;
}

export function buildUrl(baseUrl: string, path: string, query?: Record<string, QueryValue>): URL {
  const url = /^https?:\/\//.test(path) ? new URL(path) : new URL(path.replace(/^\/?/, '/'), baseUrl);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    url.searchParams.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  return url;
}

export function createAscClient(options: AscClientOptions): AscClient {
  const baseUrl = (options.baseUrl ?? APPLE_API_URL).replace(/\/+$/, '');
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const tracker = options.rateLimit ?? new RateLimitTracker(clock, options.sleep ?? realSleep);
  const origin = new URL(baseUrl).origin;
  let sent = 0;

  const transport = fetchTransport(
    options.fetch ?? ((u, i) => fetch(u, i)),
    options.timeoutMs ?? 60_000,
    options.maxResponseBytes,
  );
  const counting: Handler = async (req) => {
    sent++;
    const started = clock.now();
    logger.debug(`→ ${req.method} ${req.url}`);
    const res = await transport(req);
    logger.debug(`← ${res.status} ${req.method} ${req.path} (${clock.now() - started} ms)`, {
      rateLimit: res.headers.get('x-rate-limit') ?? undefined,
    });
    return res;
  };
  // Order matters: retry wraps auth so a retried GET gets a current token; the tracker sees every answer.
  const handler = retryLayer(
    { ...DEFAULT_RETRY, ...options.retry },
    { sleep: options.sleep ?? realSleep, random: options.random ?? Math.random, now: () => clock.now(), logger },
  )(authLayer(options.tokens)(tracker.layer()(counting)));

  return {
    baseUrl,
    rateLimit: tracker,
    get sent() {
      return sent;
    },
    async request<T>(req: AscRequest): Promise<AscResponse<T>> {
      const url = buildUrl(baseUrl, req.path, req.query);
      // Never send the key's token to another host, whatever a `links.next` says.
      if (url.origin !== origin)
        throw new AscApiError(req.method, url.pathname, 0, [
          { status: '0', code: 'UNEXPECTED_ORIGIN', title: `refusing to follow a link to ${url.origin}` },
        ]);
      const prepared: PreparedRequest = {
        method: req.method,
        url: url.toString(),
        path: url.pathname,
        headers: {
          accept: 'application/json',
          ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: req.signal,
        attempt: 0,
      };
      const res = await handler(prepared);
      if (res.status < 200 || res.status >= 300) {
        throw new AscApiError(req.method, url.pathname, res.status, parseAppleErrors(res.status, res.text));
      }
      return { status: res.status, headers: res.headers, body: parseBody<T>(req.method, url.pathname, res) };
    },
  };
}

/**
 * A 2xx answer must be JSON: a proxy's or captive portal's HTML page, or a wrong --api-url, is a network-side
 * failure (exit 9) named as such, not a crash inside ascend.
 */
function parseBody<T>(method: string, path: string, res: { status: number; text: string; headers: Headers }): T {
  if (!res.text) return undefined as T;
  try {
    return JSON.parse(res.text) as T;
  } catch {
    const type = res.headers.get('content-type') ?? 'no content type';
    throw new AscendError(
      'ASC_RESPONSE_INVALID',
      `${method} ${path} answered ${res.status} with ${res.text.length} bytes that are not JSON (${type.slice(0, 60)})`,
    );
  }
}
