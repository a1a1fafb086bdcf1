import { randomUUID } from 'node:crypto';
import { conflict } from '../errors.js';
import { mustGet } from '../reads.js';
import type { Rec } from '../store.js';
import { created, ok, type Schemas, visibleRel, type WriteCtx, type WriteHandler } from '../write-helpers.js';
import type { Deliveries } from './deliveries.js';
import { pingPayload } from './watch.js';

/** App Store Connect Help, "Manage webhooks": "you can create up to ten webhooks per app". */
export const MAX_WEBHOOKS_PER_APP = 10;

type WebhookAttrs = {
  enabled?: boolean | null;
  eventTypes?: string[] | null;
  name?: string | null;
  secret?: string | null;
  url?: string | null;
};

const invalid = (detail: string, attribute: string) =>
  conflict('ENTITY_ERROR.ATTRIBUTE.INVALID', detail, `/data/attributes/${attribute}`);

/**
 * Rules the schema cannot state. Apple's help asks for at least one event type and a name and secret; the
 * URL must be http(s) (Apple requires https [unverified]; the simulator also takes http so a receiver on
 * localhost can be tested).
 */
function checkAttrs(a: WebhookAttrs): void {
  if (typeof a.name === 'string' && !a.name.trim()) throw invalid('A webhook name cannot be empty', 'name');
  if (typeof a.secret === 'string' && !a.secret) throw invalid('A webhook secret cannot be empty', 'secret');
  if (Array.isArray(a.eventTypes) && a.eventTypes.length === 0)
    throw invalid('Choose at least one event type', 'eventTypes');
  if (typeof a.url === 'string') {
    let scheme = '';
    try {
      scheme = new URL(a.url).protocol;
    } catch {
      // reported below
    }
    if (scheme !== 'https:' && scheme !== 'http:') throw invalid(`'${a.url}' is not an https URL`, 'url');
  }
}

function apply(rec: Rec, a: WebhookAttrs): void {
  for (const k of ['enabled', 'eventTypes', 'name', 'url'] as const) {
    const v = a[k];
    if (v !== null && v !== undefined) rec.attributes[k] = Array.isArray(v) ? [...new Set(v)] : v;
  }
  // The secret is write-only: kept apart from the attributes, so no read can serialize it.
  if (typeof a.secret === 'string') rec.internal = { ...rec.internal, webhookSecret: a.secret };
}

/** Removes a webhook with its deliveries and their events. */
function removeWebhook(ctx: WriteCtx, webhook: Rec): void {
  for (const d of ctx.store.referencing('webhookDeliveries', webhook.id)) {
    ctx.store.remove('webhookDeliveries', d.id);
    const event = String(d.rels.event);
    if (!ctx.store.referencing('webhookDeliveries', event).length) ctx.store.remove('webhookEvents', event);
  }
  ctx.store.remove('webhooks', webhook.id);
}

export function webhookWrites(deliveries: Deliveries): Record<string, WriteHandler> {
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-webhooks */
  const createWebhook: WriteHandler<Schemas['WebhookCreateRequest']> = (ctx) => {
    const { attributes: a, relationships: r } = ctx.body.data;
    const app = visibleRel(ctx, 'apps', 'app', r.app.data.id);
    checkAttrs(a);
    if (ctx.store.referencing('webhooks', app.id).length >= MAX_WEBHOOKS_PER_APP)
      throw conflict(
        'ENTITY_ERROR.RELATIONSHIP.INVALID',
        `An app can have at most ${MAX_WEBHOOKS_PER_APP} webhooks; delete one first`,
        '/data/relationships/app',
      );
    const rec = ctx.store.insert({ type: 'webhooks', teamId: app.teamId, attributes: {}, rels: { app: app.id } });
    apply(rec, a);
    return created(ctx, rec);
  };

  /** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-webhooks-_id_ */
  const updateWebhook: WriteHandler<Schemas['WebhookUpdateRequest']> = (ctx) => {
    const rec = mustGet(ctx, 'webhooks', ctx.pathParams[0]!);
    const a = ctx.body.data.attributes ?? {};
    checkAttrs(a);
    apply(rec, a);
    return ok(ctx, rec);
  };

  /** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-webhooks-_id_ */
  const deleteWebhook: WriteHandler<unknown> = (ctx) => {
    removeWebhook(ctx, mustGet(ctx, 'webhooks', ctx.pathParams[0]!));
    return { status: 204 };
  };

  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-webhookpings */
  const ping: WriteHandler<Schemas['WebhookPingCreateRequest']> = (ctx) => {
    const webhook = visibleRel(ctx, 'webhooks', 'webhook', ctx.body.data.relationships.webhook.data.id);
    const id = randomUUID();
    deliveries.record(webhook, pingPayload(id, new Date(ctx.clock.now()).toISOString()), { ping: true });
    const self = `${ctx.baseUrl}/v1/webhookPings/${id}`;
    return { status: 201, body: { data: { type: 'webhookPings', id, links: { self } }, links: { self } } };
  };

  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-webhookdeliveries */
  const redeliver: WriteHandler<Schemas['WebhookDeliveryCreateRequest']> = (ctx) => {
    const template = visibleRel(ctx, 'webhookDeliveries', 'template', ctx.body.data.relationships.template.data.id);
    return created(ctx, deliveries.redeliver(template));
  };

  return {
    'POST /v1/webhooks': createWebhook,
    'PATCH /v1/webhooks/{id}': updateWebhook,
    'DELETE /v1/webhooks/{id}': deleteWebhook,
    'POST /v1/webhookPings': ping,
    'POST /v1/webhookDeliveries': redeliver,
  };
}
