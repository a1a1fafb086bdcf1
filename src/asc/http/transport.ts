import { AscNetworkError } from './errors.js';
import type { Handler } from './types.js';
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

/** The bottom layer: one HTTP exchange through an injected fetch, with a per-request timeout. */
export function fetchTransport(fetchImpl: FetchLike, timeoutMs: number): Handler {
  return async (req) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetchImpl(req.url, { method: req.method, headers: req.headers, body: req.body, signal });
      return { status: res.status, headers: res.headers, text: await res.text() };
    } catch (cause) {
      if (req.signal?.aborted) throw req.signal.reason ?? cause;
      if (!isNoAnswer(cause)) throw cause;
      // A write that got no answer may or may not have been applied: the caller must reconcile by reading.
      throw new AscNetworkError(req.method, req.path, cause, !SAFE_METHODS.has(req.method));
    }
  };
}
