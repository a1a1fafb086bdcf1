import { randomUUID } from 'node:crypto';
import type { Clock, Random, Sleep } from '../../src/core/clock.js';
import type { Store } from '../store.js';
import type { WriteHandler } from '../write-helpers.js';
import { Deliveries, fetchSender, type WebhookSender } from './deliveries.js';
import type { WebhookFaults } from './faults.js';
import { changePayload, StateWatcher } from './watch.js';
import { webhookWrites } from './writes.js';

export type { OutgoingRequest, WebhookSender } from './deliveries.js';
export { parseWebhookFaults, type WebhookFaults } from './faults.js';

export interface WebhookDeps {
  store: Store;
  /** The simulator's resource clock. */
  clock: Clock;
  log: (line: string) => void;
  /** Where deliveries go (default: real HTTP with fetch); tests pass a recorder. */
  send?: WebhookSender;
  /** The PRNG the faults are drawn from (`--fault-seed`). */
  random: Random;
  faults?: WebhookFaults;
}

export interface Webhooks {
  /** The write handlers of the webhook operations, for the router's table. */
  readonly writes: Record<string, WriteHandler>;
  /** Sends what is due now (after the clock moved); resolves when nothing due is left. */
  pump(): Promise<void>;
  /** Resolves when no delivery is in flight. */
  idle(): Promise<void>;
  /**
   * Every `everyMs` by `sleep` until `signal` aborts: `advance()` (the time-driven transitions) when a webhook
   * is enabled, then sends what is due, so events and retries go out without waiting for a request.
   */
  run(sleep: Sleep, everyMs: number, signal: AbortSignal, advance?: () => void): Promise<void>;
}

/**
 * App Store Connect webhooks in the simulator: CRUD, pings and redelivery (writes.ts; reads are the generic
 * JSON:API reader), and deliveries of state changes. Every `store.save()` lets the watcher compare the
 * watched states; each change becomes one event per enabled webhook of the app that subscribed to its type.
 */
export function createWebhooks(deps: WebhookDeps): Webhooks {
  const deliveries = new Deliveries({ ...deps, send: deps.send ?? fetchSender() });
  const watcher = new StateWatcher(deps.store);
  deps.store.onSave(() => {
    const changes = watcher.diff();
    for (const c of changes) {
      const timestamp = new Date(deps.clock.now()).toISOString();
      for (const w of deps.store.referencing('webhooks', c.appId)) {
        const types = (w.attributes.eventTypes as string[] | undefined) ?? [];
        if (w.attributes.enabled !== true || !types.includes(c.eventType)) continue;
        deliveries.record(w, changePayload(c, randomUUID(), timestamp), { eventType: c.eventType, ping: false });
      }
    }
    void deliveries.pump();
  });
  return {
    writes: webhookWrites(deliveries),
    pump: () => deliveries.pump(),
    idle: () => deliveries.idle(),
    async run(sleep, everyMs, signal, advance) {
      while (!signal.aborted) {
        try {
          await sleep(everyMs, signal);
        } catch {
          return;
        }
        if (advance && deps.store.list('webhooks').some((w) => w.attributes.enabled === true)) advance();
        await deliveries.pump();
      }
    },
  };
}
