import { notFound } from './errors.js';
import { collection, type QueryCtx, single } from './jsonapi.js';
import type { Operation, Spec } from './spec.js';
import type { Rec } from './store.js';

/** The resource type a 200 response of `op` carries, and whether it is a collection. */
export function responseShape(op: Operation, spec: Spec): { type: string; many: boolean } | undefined {
  const schema = op.responses['200'];
  if (!schema) return undefined;
  const data = spec.resolve(schema).properties?.data;
  if (!data) return undefined;
  const many = spec.resolve(data).type === 'array';
  const item = spec.resolve(many ? (spec.resolve(data).items ?? {}) : data);
  const type = item.properties?.type?.enum?.[0];
  return typeof type === 'string' ? { type, many } : undefined;
}

/** Looks a record up, treating another team's record as missing (Apple answers 404, not 403). */
export function mustGet(ctx: QueryCtx, type: string, id: string): Rec {
  const rec = ctx.store.get(type, id);
  if (!rec || !ctx.visible(rec)) throw notFound(type, id);
  return rec;
}

/**
 * Every GET in the subset is served generically from its path: `/v1/{type}`, `/v1/{type}/{id}`,
 * `/v1/{type}/{id}/{rel}` and `/v1/{type}/{id}/relationships/{rel}`.
 */
export function genericGet(op: Operation, pathParams: string[], ctx: QueryCtx): Record<string, unknown> {
  const segs = op.template.split('/').filter(Boolean); // ['v1', type, '{id}', rel...]
  const type = segs[1]!;
  if (segs.length === 2) return collection(ctx.store.list(type), ctx);
  const parent = mustGet(ctx, type, pathParams[0]!);
  if (segs.length === 3) return single(parent, ctx);
  const isLinkage = segs[3] === 'relationships';
  const rel = isLinkage ? segs[4]! : segs[3]!;
  const shape = responseShape(op, ctx.spec);
  const targetType = ctx.spec.relationships(type).get(rel)?.type ?? shape?.type;
  if (!targetType) throw new Error(`no type for ${op.key}`);
  const stored = parent.rels[rel];
  const targets: Rec[] =
    stored !== undefined
      ? (Array.isArray(stored) ? stored : stored ? [stored] : []).flatMap((id) => ctx.store.get(targetType, id) ?? [])
      : ctx.store.referencing(targetType, parent.id);
  if (isLinkage) {
    const visible = targets.filter(ctx.visible);
    return { data: visible.map((t) => ({ type: t.type, id: t.id })), links: { self: `${ctx.baseUrl}${ctx.path}` } };
  }
  if (shape && !shape.many) {
    const t = targets.find(ctx.visible);
    if (!t) return { data: null, links: { self: `${ctx.baseUrl}${ctx.path}` } };
    return single(t, ctx);
  }
  return collection(targets, ctx);
}
