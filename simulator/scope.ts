import { scopeMismatch } from './errors.js';

/**
 * The JWT `scope` claim as Apple documents it ("Generating tokens for API requests"): each entry is a method,
 * a path and an optional query, e.g. `GET /v1/apps?filter[platform]=IOS`. Parameter order does not matter and
 * `limit`, `cursor` and `sort` are ignored. An entry without a query covers the path with any query; an entry
 * with one covers exactly those parameters. A token with a scope that matches nothing is refused with the
 * 403 a live capture shows. Apple once matched paths written without `/v1` (forum thread 707271), so both
 * spellings are accepted.
 */
const IGNORED = new Set(['limit', 'cursor', 'sort']);

function normalizedQuery(q: URLSearchParams): string {
  return [...q]
    .filter(([k]) => !IGNORED.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&');
}

function withVersion(path: string): string {
  return /^\/v\d+\//.test(path) ? path : `/v1${path.startsWith('/') ? '' : '/'}${path}`;
}

export function scopeCovers(entry: string, method: string, path: string, query: URLSearchParams): boolean {
  const m = /^([A-Z]+)\s+(\S+)$/.exec(entry.trim());
  if (!m || m[1] !== method) return false;
  const u = new URL(m[2]!, 'http://scope.invalid');
  if (withVersion(decodeURIComponent(u.pathname).replace(/\/+$/, '')) !== path) return false;
  if (!u.search) return true;
  return normalizedQuery(u.searchParams) === normalizedQuery(query);
}

/** Throws Apple's 403 when `scope` is present and no entry covers the request. */
export function checkScope(scope: unknown, method: string, path: string, query: URLSearchParams): void {
  if (scope === undefined) return;
  const entries = Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : [];
  if (entries.some((e) => scopeCovers(e, method, path, query))) return;
  const q = query.toString();
  throw scopeMismatch(
    method,
    path,
    q ? decodeURIComponent(q) : null,
    entries.map((e) => `RequestData(${e})`),
  );
}
