/** What the server keeps of a delivery: Apple's payload is a notification only (app-store-connect.md (i)). */
export interface WebhookNotice {
  /** Apple's event id (`data.id`): the same event delivered again carries the same id. */
  eventId: string;
  /** Apple's camelCase event type (`data.type`), e.g. `buildUploadStateUpdated`. */
  eventType: string;
  /** The resource the event is about (`relationships.instance`), when the payload names one. */
  resource: { type: string; id: string } | null;
}

/** The instance types the server re-reads, by the event types it registers for (DESIGN §3.6). */
export const EVENT_TYPES = [
  'BUILD_UPLOAD_STATE_UPDATED',
  'BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED',
  'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED',
] as const;

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TYPE = /^[A-Za-z][A-Za-z0-9]{0,127}$/;

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/**
 * Reads `{"data":{"type","id","relationships":{"instance":{"data":{"type","id"}}}}}` from the (size-bounded)
 * body; undefined when it is not JSON of that shape. Attributes (Apple's new/old state) are ignored on
 * purpose: deliveries can arrive late, twice or out of order, so the state is always re-read from the API.
 */
export function parseNotice(body: Buffer): WebhookNotice | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const data = obj(obj(json)?.data);
  const eventId = data?.id;
  const eventType = data?.type;
  if (typeof eventId !== 'string' || !ID.test(eventId)) return undefined;
  if (typeof eventType !== 'string' || !TYPE.test(eventType)) return undefined;
  const inst = obj(obj(obj(data?.relationships)?.instance)?.data);
  const resource =
    typeof inst?.type === 'string' && TYPE.test(inst.type) && typeof inst.id === 'string' && ID.test(inst.id)
      ? { type: inst.type, id: inst.id }
      : null;
  return { eventId, eventType, resource };
}
