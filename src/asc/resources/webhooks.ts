import type { AscClient } from '../http/client.js';
import { collect, type Resource } from '../http/paginate.js';
import type { Schemas } from './common.js';

/** App Store Connect webhooks (API 4.0+): one app each, signed deliveries of the chosen event types. */
export type Webhook = Schemas['Webhook'];
export type WebhookEventType = Schemas['WebhookEventType'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type WebhookEvent = Schemas['WebhookEvent'];
export type WebhookDeliveryState = NonNullable<NonNullable<WebhookDelivery['attributes']>['deliveryState']>;

/** What a webhook is made with. The secret signs every delivery (`x-apple-signature`); Apple never returns it. */
export interface WebhookInput {
  appId: string;
  name: string;
  url: string;
  secret: string;
  eventTypes: WebhookEventType[];
  enabled: boolean;
}

const path = (id: string) => `/v1/webhooks/${encodeURIComponent(id)}`;

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-apps-_id_-webhooks */
export async function listWebhooks(client: AscClient, appId: string): Promise<Webhook[]> {
  const { data } = await collect<Webhook>(client, `/v1/apps/${encodeURIComponent(appId)}/webhooks`);
  return data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-webhooks-_id_ */
export async function getWebhook(client: AscClient, id: string): Promise<Webhook> {
  const res = await client.request<Schemas['WebhookResponse']>({ method: 'GET', path: path(id) });
  return res.body.data;
}

/**
 * Not retried by the caller blindly: a lost answer may have made the webhook; list the app's webhooks and
 * match by URL to reconcile.
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-webhooks
 */
export async function createWebhook(client: AscClient, input: WebhookInput): Promise<Webhook> {
  const res = await client.request<Schemas['WebhookResponse']>({
    method: 'POST',
    path: '/v1/webhooks',
    body: {
      data: {
        type: 'webhooks',
        attributes: {
          name: input.name,
          url: input.url,
          secret: input.secret,
          eventTypes: input.eventTypes,
          enabled: input.enabled,
        },
        relationships: { app: { data: { type: 'apps', id: input.appId } } },
      },
    } satisfies Schemas['WebhookCreateRequest'],
  });
  return res.body.data;
}

/** Only the given attributes change; the app cannot (make a new webhook for another app). */
export type WebhookChanges = Partial<Omit<WebhookInput, 'appId'>>;

/** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-webhooks-_id_ */
export async function updateWebhook(client: AscClient, id: string, changes: WebhookChanges): Promise<Webhook> {
  const attributes: NonNullable<Schemas['WebhookUpdateRequest']['data']['attributes']> = {};
  for (const k of ['name', 'url', 'secret', 'eventTypes', 'enabled'] as const)
    if (changes[k] !== undefined) Object.assign(attributes, { [k]: changes[k] });
  const res = await client.request<Schemas['WebhookResponse']>({
    method: 'PATCH',
    path: path(id),
    body: { data: { type: 'webhooks', id, attributes } } satisfies Schemas['WebhookUpdateRequest'],
  });
  return res.body.data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-webhooks-_id_ */
export async function deleteWebhook(client: AscClient, id: string): Promise<void> {
  await client.request({ method: 'DELETE', path: path(id) });
}

/**
 * Sends a test event to the webhook; its delivery shows in the deliveries with `ping: true` on its event.
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-webhookpings
 */
export async function pingWebhook(client: AscClient, webhookId: string): Promise<{ id: string }> {
  const res = await client.request<Schemas['WebhookPingResponse']>({
    method: 'POST',
    path: '/v1/webhookPings',
    body: {
      data: {
        type: 'webhookPings',
        relationships: { webhook: { data: { type: 'webhooks', id: webhookId } } },
      },
    } satisfies Schemas['WebhookPingCreateRequest'],
  });
  return { id: res.body.data.id };
}

/** A delivery with its event (payload, type, ping) when Apple included it. */
export interface DeliveryWithEvent {
  delivery: WebhookDelivery;
  event?: WebhookEvent;
}

/**
 * A webhook's deliveries with their events (`include=event`), optionally by state and creation date.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-webhooks-_id_-deliveries
 */
export async function listWebhookDeliveries(
  client: AscClient,
  webhookId: string,
  f: { state?: WebhookDeliveryState[]; createdFrom?: string; createdBefore?: string; maxItems?: number } = {},
): Promise<DeliveryWithEvent[]> {
  const { data, included } = await collect<WebhookDelivery>(
    client,
    `${path(webhookId)}/deliveries`,
    {
      'filter[deliveryState]': f.state,
      'filter[createdDateGreaterThanOrEqualTo]': f.createdFrom ? [f.createdFrom] : undefined,
      'filter[createdDateLessThan]': f.createdBefore ? [f.createdBefore] : undefined,
      include: 'event',
    },
    { maxItems: f.maxItems },
  );
  const events = new Map(
    included.filter((r: Resource) => r.type === 'webhookEvents').map((r) => [r.id, r as WebhookEvent]),
  );
  return data.map((delivery) => {
    const eventId = delivery.relationships?.event?.data?.id;
    const event = eventId ? events.get(eventId) : undefined;
    return event ? { delivery, event } : { delivery };
  });
}

/**
 * Sends an earlier delivery's event again (same payload); the new delivery has `redelivery: true`.
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-webhookdeliveries
 */
export async function redeliverWebhookDelivery(client: AscClient, deliveryId: string): Promise<WebhookDelivery> {
  const res = await client.request<Schemas['WebhookDeliveryResponse']>({
    method: 'POST',
    path: '/v1/webhookDeliveries',
    body: {
      data: {
        type: 'webhookDeliveries',
        relationships: { template: { data: { type: 'webhookDeliveries', id: deliveryId } } },
      },
    } satisfies Schemas['WebhookDeliveryCreateRequest'],
  });
  return res.body.data;
}
