import type { Clock, Random } from '../../src/core/clock.js';
import { signHmacSha256 } from '../../src/core/hmac.js';
import type { DeliveryInternal } from '../records.js';
import type { Rec, Store } from '../store.js';
import { drawWebhookFaults, NO_WEBHOOK_FAULTS, type WebhookFaults } from './faults.js';
import type { WatchedEventType } from './watch.js';

/** One outgoing POST as the receiver gets it: the raw body and the headers, signature included. */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}
/** Sends one request; resolves with the receiver's answer, throws when there is none (refused, timed out). */
export type WebhookSender = (req: OutgoingRequest) => Promise<{ status: number; body: string }>;

/**
 * Waits after the 1st…5th failed attempt, on the simulator's clock; after the 6th attempt a delivery stays
 * FAILED (redeliver it with POST /v1/webhookDeliveries). Apple does not document its schedule [unverified].
 */
export const RETRY_SCHEDULE_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 6 * 3_600_000];
/** How much of a receiver's answer a delivery records (`response.body`). */
export const RESPONSE_BODY_MAX = 1024;
/** How long a reordered delivery waits for a later one to overtake it before it goes anyway. */
export const REORDER_HOLD_MS = 60_000;
/** A receiver that does not answer within this long is a failed attempt. */
export const SEND_TIMEOUT_MS = 10_000;

/** The real sender: fetch with a timeout, no redirects followed, the answer read up to a bound. */
export function fetchSender(timeoutMs = SEND_TIMEOUT_MS): WebhookSender {
  return async ({ url, headers, body }) => {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    let text = '';
    const reader = res.body?.getReader();
    if (reader) {
      const decoder = new TextDecoder();
      while (text.length <= RESPONSE_BODY_MAX) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await reader.cancel().catch(() => {});
    }
    return { status: res.status, body: text };
  };
}

export interface DeliveryDeps {
  store: Store;
  /** The simulator's resource clock: dates, retries and delays run on it. */
  clock: Clock;
  send: WebhookSender;
  random: Random;
  faults?: WebhookFaults;
  log: (line: string) => void;
}

const internalOf = (d: Rec): DeliveryInternal => {
  d.internal ??= {};
  d.internal.delivery ??= { attempts: 0 };
  return d.internal.delivery;
};

/**
 * Webhook deliveries: each event is recorded (`webhookEvents`, the exact payload bytes) with one delivery
 * per webhook (`webhookDeliveries`), then POSTed signed with the webhook's current secret, one at a time in
 * the order they fall due. Every attempt updates the record Apple's `GET /v1/webhooks/{id}/deliveries` shows.
 */
export class Deliveries {
  private running: Promise<void> | undefined;
  private readonly faults: WebhookFaults;

  constructor(private readonly deps: DeliveryDeps) {
    this.faults = deps.faults ?? NO_WEBHOOK_FAULTS;
  }

  private iso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /** Records an event for a webhook and its first delivery (due now, or later with a delay fault). */
  record(webhook: Rec, payload: unknown, opts: { eventType?: WatchedEventType; ping: boolean }): Rec {
    const event = this.deps.store.insert({
      type: 'webhookEvents',
      teamId: webhook.teamId,
      attributes: {
        ...(opts.eventType ? { eventType: opts.eventType } : {}),
        payload: JSON.stringify(payload),
        ping: opts.ping,
        createdDate: this.iso(),
      },
      rels: {},
    });
    return this.schedule(webhook, event.id, false);
  }

  /** A new delivery of an earlier delivery's event (same payload, same id), marked `redelivery`. */
  redeliver(template: Rec): Rec {
    const webhook = this.deps.store.get('webhooks', String(template.rels.webhook));
    if (!webhook) throw new Error(`delivery ${template.id} has no webhook`);
    return this.schedule(webhook, String(template.rels.event), true);
  }

  private schedule(webhook: Rec, eventId: string, redelivery: boolean): Rec {
    const f = drawWebhookFaults(this.faults, this.deps.random);
    const delivery: DeliveryInternal = { attempts: 0, nextAt: this.deps.clock.now() + f.delayMs };
    if (f.drop) delivery.drop = true;
    if (f.duplicate) delivery.duplicate = true;
    if (f.reorder) delivery.reorder = true;
    return this.deps.store.insert({
      type: 'webhookDeliveries',
      teamId: webhook.teamId,
      attributes: {
        createdDate: this.iso(),
        deliveryState: 'PENDING',
        redelivery,
        request: { url: String(webhook.attributes.url) },
      },
      rels: { event: eventId, webhook: webhook.id },
      internal: { delivery },
    });
  }

  /** Sends every delivery that is due, in order; resolves when none is left due. */
  pump(): Promise<void> {
    this.running ??= (async () => {
      // Not inside the caller's turn: a save's listener records deliveries, the save writes them first.
      await Promise.resolve();
      try {
        for (let d = this.nextDue(); d; d = this.nextDue()) await this.attempt(d);
      } catch (err) {
        this.deps.log(`webhook delivery failed unexpectedly: ${(err as Error).stack ?? String(err)}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Resolves when the deliveries in flight are done. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private nextDue(): Rec | undefined {
    const now = this.deps.clock.now();
    const due = this.deps.store.list('webhookDeliveries').filter((d) => {
      const i = d.internal?.delivery;
      if (i?.nextAt === undefined || i.nextAt > now) return false;
      return !i.reorder || Date.parse(String(d.attributes.createdDate)) + REORDER_HOLD_MS <= now;
    });
    // Stable sort: deliveries due at the same time go in the order they were recorded.
    return due.sort((a, b) => (internalOf(a).nextAt ?? 0) - (internalOf(b).nextAt ?? 0))[0];
  }

  private async attempt(d: Rec): Promise<void> {
    const i = internalOf(d);
    const webhook = this.deps.store.get('webhooks', String(d.rels.webhook));
    const event = this.deps.store.get('webhookEvents', String(d.rels.event));
    const secret = webhook?.internal?.webhookSecret;
    if (!webhook || !event || secret === undefined || webhook.attributes.enabled === false) {
      // No further attempts: a disabled (or deleted) webhook gets nothing until a redelivery.
      i.nextAt = undefined;
      this.finish(
        d,
        i,
        undefined,
        webhook?.attributes.enabled === false ? 'The webhook is disabled' : 'No webhook',
        false,
      );
      return;
    }
    i.attempts++;
    const body = String(event.attributes.payload);
    const url = String(webhook.attributes.url);
    const req: OutgoingRequest = {
      url,
      headers: { 'content-type': 'application/json', 'x-apple-signature': signHmacSha256(secret, body) },
      body,
    };
    d.attributes.sentDate = this.iso();
    d.attributes.request = { url };
    // A held-back (reordered) delivery of this webhook goes right after this one has overtaken it.
    for (const other of this.deps.store.list('webhookDeliveries'))
      if (other !== d && other.rels.webhook === webhook.id && other.internal?.delivery?.reorder)
        other.internal.delivery.reorder = undefined;
    const first = i.attempts === 1;
    let answer: { status: number; body: string } | undefined;
    let error: string | undefined;
    try {
      if (first && i.drop) throw new Error('The request timed out');
      answer = await this.deps.send(req);
      if (first && i.duplicate) await this.deps.send(req).catch(() => undefined);
    } catch (err) {
      // fetch says only "fetch failed"; its cause names the problem (ECONNREFUSED, a bad certificate…).
      const e = err as Error & { cause?: { message?: string } };
      error = e.name === 'TimeoutError' ? 'The request timed out' : (e.cause?.message ?? e.message);
    }
    if (answer && (answer.status < 200 || answer.status > 299)) error = `The endpoint answered HTTP ${answer.status}`;
    this.finish(d, i, answer, error);
  }

  private finish(
    d: Rec,
    i: DeliveryInternal,
    answer: { status: number; body: string } | undefined,
    error: string | undefined,
    retry = true,
  ) {
    if (answer)
      d.attributes.response = { httpStatusCode: answer.status, body: answer.body.slice(0, RESPONSE_BODY_MAX) };
    if (error === undefined) {
      d.attributes.deliveryState = 'SUCCEEDED';
      delete d.attributes.errorMessage;
      i.nextAt = undefined;
    } else {
      d.attributes.deliveryState = 'FAILED';
      d.attributes.errorMessage = error;
      const wait = retry && i.attempts > 0 ? RETRY_SCHEDULE_MS[i.attempts - 1] : undefined;
      i.nextAt = wait === undefined ? undefined : this.deps.clock.now() + wait;
    }
    i.drop = i.duplicate = i.reorder = undefined;
    this.deps.store.save();
  }
}
