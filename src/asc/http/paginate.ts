import { AscendError } from '../../core/errors.js';
import type { AscClient } from './client.js';
import type { QueryValue } from './types.js';

export interface Resource<A = Record<string, unknown>> {
  type: string;
  id: string;
  attributes?: A;
  relationships?: Record<
    string,
    { data?: { type: string; id: string } | { type: string; id: string }[] | null; links?: unknown }
  >;
  links?: { self?: string };
}

export interface Page<T> {
  data: T[];
  included?: Resource[];
  links: { self: string; next?: string };
  meta?: { paging?: { total?: number; limit: number; nextCursor?: string } };
}

export const MAX_PAGE_LIMIT = 200;
/** 2,000,000 items at 200 a page: far beyond any real list, short of forever. */
export const MAX_PAGES = 10_000;

/**
 * Every page of a collection, following `links.next` verbatim. A `limit` is always sent (Apple's default
 * is undocumented), and a next URL that repeats stops the loop instead of spinning forever.
 */
export async function* paginate<T>(
  client: AscClient,
  path: string,
  query: Record<string, QueryValue> = {},
  options: { signal?: AbortSignal; maxItems?: number } = {},
): AsyncGenerator<Page<T>> {
  const seen = new Set<string>();
  let next: string | undefined = path;
  let q: Record<string, QueryValue> | undefined = {
    limit: Math.min(MAX_PAGE_LIMIT, options.maxItems ?? MAX_PAGE_LIMIT),
    ...query,
  };
  let count = 0;
  let pages = 0;
  while (next) {
    const res: { body: Page<T> } = await client.request<Page<T>>({
      method: 'GET',
      path: next,
      query: q,
      signal: options.signal,
    });
    // A list answer without a `data` array is not App Store Connect's (a proxy, a wrong --api-url).
    if (!res.body || !Array.isArray(res.body.data))
      throw new AscendError('ASC_RESPONSE_INVALID', `GET ${path} answered a list without a data array`);
    yield res.body;
    count += res.body.data.length;
    // Distinct cursors forever (empty pages that still link on) would never end: bound the walk.
    if (++pages >= MAX_PAGES)
      throw new AscendError('PAGINATION_LOOP', `Apple returned more than ${MAX_PAGES} pages for ${path}`);
    if (options.maxItems !== undefined && count >= options.maxItems) return;
    const link = res.body.links?.next;
    if (!link) return;
    // An empty page has nothing after it worth following, whatever its link says.
    if (res.body.data.length === 0) return;
    if (seen.has(link)) {
      throw new AscendError('PAGINATION_LOOP', `Apple returned the same next page twice for ${path}`);
    }
    seen.add(link);
    next = link;
    q = undefined; // the next link already carries every parameter
  }
}

/**
 * Items of every page, with `maxItems` as an optional cap. Each page repeats the included resources its items
 * link to (the same pre-release version on every page of builds), so `included` keeps one of each.
 */
export async function collect<T>(
  client: AscClient,
  path: string,
  query: Record<string, QueryValue> = {},
  options: { signal?: AbortSignal; maxItems?: number } = {},
): Promise<{ data: T[]; included: Resource[] }> {
  const data: T[] = [];
  const included = new Map<string, Resource>();
  for await (const page of paginate<T>(client, path, query, options)) {
    for (const item of page.data) data.push(item);
    for (const r of page.included ?? []) included.set(`${r.type}/${r.id}`, r);
  }
  return {
    data: options.maxItems !== undefined && data.length > options.maxItems ? data.slice(0, options.maxItems) : data,
    included: [...included.values()],
  };
}
