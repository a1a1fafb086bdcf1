import { AscNetworkError } from './errors.js';
import type { Handler } from './types.js';
import { SAFE_METHODS } from './types.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

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
      // A write that got no answer may or may not have been applied: the caller must reconcile by reading.
      throw new AscNetworkError(req.method, req.path, cause, !SAFE_METHODS.has(req.method), req.url);
    }
  };
}
