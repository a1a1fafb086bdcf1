import { AscendError } from '../../core/errors.js';
import { AscNetworkError } from './errors.js';
import type { Handler, PreparedRequest } from './types.js';
import { SAFE_METHODS } from './types.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/**
 * True for what a real fetch throws when no answer arrived: undici's TypeError ("fetch failed", "terminated"
 * while reading the body), the timeout's DOMException, or an error carrying a socket code (ECONNRESET,
 * UND_ERR_SOCKET). Anything else is a bug in an injected fetch and surfaces as it is, never retried.
 */
export function isNoAnswer(err: unknown): boolean {
  if (err instanceof TypeError) return true;
  if (err instanceof DOMException) return err.name === 'TimeoutError' || err.name === 'AbortError';
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code);
}

/**
 * The most an answer may hold. App Store Connect's largest pages (200 builds with every field and an include)
 * are under 1 MB; anything near this bound is not Apple, and is refused before it fills memory.
 */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

function tooLarge(req: PreparedRequest, what: string, max: number): AscendError {
  return new AscendError(
    'ASC_RESPONSE_TOO_LARGE',
    `the answer to ${req.method} ${req.path} ${what}, more than the ${max / 1024 / 1024} MiB an answer may hold`,
  );
}

/**
 * Reads a body up to `max` bytes, by its declared length first and then by what actually arrives (after any
 * decompression, so a small compressed answer cannot expand without bound).
 */
async function readBounded(res: Response, req: PreparedRequest, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) {
    await res.body?.cancel();
    throw tooLarge(req, `declares ${declared} bytes`, max);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge(req, 'kept coming', max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** The bottom layer: one HTTP exchange through an injected fetch, with a per-request timeout and size bound. */
export function fetchTransport(fetchImpl: FetchLike, timeoutMs: number, maxBytes = MAX_RESPONSE_BYTES): Handler {
  return async (req) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetchImpl(req.url, { method: req.method, headers: req.headers, body: req.body, signal });
      return { status: res.status, headers: res.headers, text: await readBounded(res, req, maxBytes) };
    } catch (cause) {
      if (req.signal?.aborted) throw req.signal.reason ?? cause;
      if (cause instanceof AscendError) throw cause;
      if (!isNoAnswer(cause)) throw cause;
      // A write that got no answer may or may not have been applied: the caller must reconcile by reading.
      throw new AscNetworkError(req.method, req.path, cause, !SAFE_METHODS.has(req.method), req.url);
    }
  };
}
