import { simError } from './errors.js';
import type { Spec } from './spec.js';
import type { Rec, Store } from './store.js';

export interface QueryCtx {
  baseUrl: string;
  path: string;
  query: URLSearchParams;
  spec: Spec;
  store: Store;
  /** Records of another team are invisible (404), as on App Store Connect. */
  visible: (r: Rec) => boolean;
}

type Json = Record<string, unknown>;

function listParam(q: URLSearchParams, name: string): string[] | undefined {
  const v = q.get(name);
  return v === null ? undefined : v.split(',');
}

/**
 * A resource object as Apple returns it: attributes (sparse with `fields[type]`), a `links` pair for each
 * relationship whose schema declares links, and linkage `data` for relationships the request included
 * (or that Apple declares with `data` only, such as `buildUploads.relationships.build`).
 */
export function serialize(rec: Rec, ctx: QueryCtx, includes: Set<string>): Json {
  const fields = listParam(ctx.query, `fields[${rec.type}]`);
  const declared = ctx.spec.relationships(rec.type);
  const attributes: Json = {};
  for (const [k, v] of Object.entries(rec.attributes)) if (!fields || fields.includes(k)) attributes[k] = v;
  const self = `${ctx.baseUrl}/v1/${rec.type}/${rec.id}`;
  const relationships: Json = {};
  for (const [name, def] of declared) {
    if (fields && !fields.includes(name)) continue;
    const rel: Json = {};
    if (def.links) rel.links = { self: `${self}/relationships/${name}`, related: `${self}/${name}` };
    // Linkage for included relationships, and always for those Apple declares without links.
    if (def.type && def.data && (includes.has(name) || !def.links)) {
      const v = rec.rels[name];
      // An empty to-one omits `data`: Apple's schemas do not mark linkage nullable (docs/API_NOTES.md).
      if (def.toMany) rel.data = (Array.isArray(v) ? v : []).map((id) => ({ type: def.type, id }));
      else if (typeof v === 'string') rel.data = { type: def.type, id: v };
    }
    if (Object.keys(rel).length) relationships[name] = rel;
  }
  const out: Json = { type: rec.type, id: rec.id, attributes, links: { self } };
  if (Object.keys(relationships).length) out.relationships = relationships;
  return out;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  const sa = String(a);
  const sb = String(b);
  if (/^\d+(\.\d+)*$/.test(sa) && /^\d+(\.\d+)*$/.test(sb)) {
    const pa = sa.split('.').map(Number);
    const pb = sb.split('.').map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      const d = (pa[i] ?? 0) - (pb[i] ?? 0);
      if (d) return d;
    }
    return 0;
  }
  return sa < sb ? -1 : 1;
}

const RANGE = /^(.+)(GreaterThanOrEqualTo|LessThan)$/;

/** `filter[x]` as Apple applies it: comma = OR within a filter, filters AND together, dotted paths follow a relationship. */
export function applyFilters(recs: Rec[], ctx: QueryCtx): Rec[] {
  let out = recs;
  for (const [name, value] of ctx.query) {
    const fm = /^filter\[(.+)\]$/.exec(name);
    const em = /^exists\[(.+)\]$/.exec(name);
    const range = fm ? RANGE.exec(fm[1]!) : null;
    if (range && !(fm![1]! in (recs[0]?.attributes ?? {}))) {
      // `filter[createdDateGreaterThanOrEqualTo]`, `filter[createdDateLessThan]`: a date range on an attribute.
      const bound = Date.parse(value);
      const atLeast = range[2] === 'GreaterThanOrEqualTo';
      out = out.filter((r) => {
        const t = Date.parse(String(r.attributes[range[1]!]));
        return !Number.isNaN(t) && (atLeast ? t >= bound : t < bound);
      });
    } else if (fm) {
      const field = fm[1]!;
      const wanted = value.split(',');
      out = out.filter((r) => valuesOf(r, field, ctx).some((v) => wanted.includes(v)));
    } else if (em) {
      const field = em[1]!;
      const want = value === 'true';
      out = out.filter((r) => valuesOf(r, field, ctx).length > 0 === want);
    }
  }
  return out;
}

function valuesOf(r: Rec, field: string, ctx: QueryCtx): string[] {
  if (field === 'id') return [r.id];
  const dot = field.indexOf('.');
  if (dot > 0) {
    const relName = field.slice(0, dot);
    const rest = field.slice(dot + 1);
    const ids = r.rels[relName];
    const relType = ctx.spec.relationships(r.type).get(relName)?.type;
    if (!relType) return [];
    return (Array.isArray(ids) ? ids : ids ? [ids] : []).flatMap((id) => {
      const target = ctx.store.get(relType, id);
      return target ? valuesOf(target, rest, ctx) : [];
    });
  }
  if (field in r.rels) {
    const v = r.rels[field];
    return Array.isArray(v) ? v : v ? [v] : [];
  }
  const v = r.attributes[field];
  return v === undefined || v === null ? [] : [String(v)];
}

export function applySort(recs: Rec[], ctx: QueryCtx): Rec[] {
  const sort = ctx.query.get('sort');
  if (!sort) return recs;
  const keys = sort.split(',').map((s) => (s.startsWith('-') ? { f: s.slice(1), d: -1 } : { f: s, d: 1 }));
  return [...recs].sort((a, b) => {
    for (const { f, d } of keys) {
      const c = compareValues(valuesOf(a, f, ctx)[0], valuesOf(b, f, ctx)[0]);
      if (c) return c * d;
    }
    return 0;
  });
}

/** Opaque cursors, shaped like Apple's (base64 of a small JSON object). */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ offset: String(offset) })).toString('base64url');
}

export function decodeCursor(cursor: string | null): number {
  if (cursor === null) return 0;
  try {
    const o = Number((JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: string }).offset);
    if (Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through to the error below
  }
  throw simError(
    400,
    'PARAMETER_ERROR.INVALID',
    'A parameter has an invalid value',
    `'${cursor}' is not a valid cursor for this request.`,
    {
      parameter: 'cursor',
    },
  );
}

function includedFor(recs: Rec[], ctx: QueryCtx, includes: Set<string>): Json[] {
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const r of recs) {
    const declared = ctx.spec.relationships(r.type);
    for (const name of includes) {
      const def = declared.get(name);
      if (!def?.type) continue;
      const v = r.rels[name];
      for (const id of Array.isArray(v) ? v.slice(0, 50) : v ? [v] : []) {
        const key = `${def.type}/${id}`;
        const target = ctx.store.get(def.type, id);
        if (seen.has(key) || !target || !ctx.visible(target)) continue;
        seen.add(key);
        out.push(serialize(target, ctx, new Set()));
      }
    }
  }
  return out;
}

export const DEFAULT_LIMIT = 50;

/** A collection document: filtered, sorted, one page of `limit`, `links.next` with an opaque cursor, `meta.paging`. */
export function collection(recs: Rec[], ctx: QueryCtx): Json {
  const visible = applySort(applyFilters(recs.filter(ctx.visible), ctx), ctx);
  const limit = Number(ctx.query.get('limit') ?? DEFAULT_LIMIT);
  const offset = decodeCursor(ctx.query.get('cursor'));
  const page = visible.slice(offset, offset + limit);
  const includes = new Set(listParam(ctx.query, 'include') ?? []);
  const self = new URL(`${ctx.baseUrl}${ctx.path}`);
  for (const [k, v] of ctx.query) self.searchParams.set(k, v);
  const links: Json = { self: self.toString() };
  const paging: Json = { total: visible.length, limit };
  if (offset + limit < visible.length) {
    const next = new URL(self);
    const cursor = encodeCursor(offset + limit);
    next.searchParams.set('cursor', cursor);
    links.next = next.toString();
    paging.nextCursor = cursor;
  }
  const doc: Json = { data: page.map((r) => serialize(r, ctx, includes)), links, meta: { paging } };
  if (includes.size) doc.included = includedFor(page, ctx, includes);
  return doc;
}

export function single(rec: Rec, ctx: QueryCtx): Json {
  const includes = new Set(listParam(ctx.query, 'include') ?? []);
  const doc: Json = { data: serialize(rec, ctx, includes), links: { self: `${ctx.baseUrl}${ctx.path}` } };
  if (includes.size) doc.included = includedFor([rec], ctx, includes);
  return doc;
}
