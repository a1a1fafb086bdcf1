import type { TokenProvider } from '../../credentials/types.js';
import type { Layer } from './types.js';

/**
 * Adds the bearer token. On a 401 the token is invalidated and the request sent once more with a fresh
 * one: Apple sometimes refuses a freshly minted valid token, and a 401 means nothing was applied, so
 * re-sending is safe for any method.
 */
export function authLayer(tokens: TokenProvider): Layer {
  return (next) => async (req) => {
    const token = await tokens.token();
    const res = await next({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } });
    if (res.status !== 401) return res;
    tokens.invalidate(token);
    const fresh = await tokens.token();
    return next({ ...req, headers: { ...req.headers, authorization: `Bearer ${fresh}` } });
  };
}
