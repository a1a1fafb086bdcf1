import { hostname } from 'node:os';
import type { Clock, Sleep } from '../../core/clock.js';
import { TableJobQueue } from '../queue/table-queue.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { eventHandledSince } from '../store/webhooks.js';
import type { Vault } from '../vault/vault.js';
import { WEBHOOK_JOB, webhookJobHandler } from '../worker/webhook-job.js';
import type { AppleWebhooks, HookReceiver } from './types.js';
import { createWaiter, type Waiter, WakeBus, wakeKey } from './wake.js';

export interface WebhookRuntime {
  /** For the hooks route. */
  readonly receiver: HookReceiver;
  /** For the deploy job: a sleep that events for the app end early. */
  waiter(teamId: string, bundleId: string): Waiter;
  /** In-process wake-ups (tests and benchmarks listen here). */
  readonly bus: WakeBus;
  stop(opts?: { timeoutMs?: number }): Promise<void>;
}

/**
 * The moving parts of incoming webhooks in one process: a queue loop of its own for event jobs (a deploy
 * holding every deploy slot must not keep the event that wakes it from being handled), woken at once by the
 * route (its idle wait is only for events queued by other processes), and the deploys' waiters. On
 * PostgreSQL, deploys may run in other processes than the one that took the event: their waiters also ask
 * the database (`handled_at`) every `crossProcessCheckMs`.
 */
export function startWebhookRuntime(o: {
  store: Store;
  vault: Vault;
  deps: StoreDeps;
  clock: Clock;
  sleep: Sleep;
  apple?: Pick<AppleWebhooks, 'readState'>;
  onReadError?: (eventRef: string, err: unknown) => void;
  idlePollMs?: number;
  crossProcessCheckMs?: number;
}): WebhookRuntime {
  const bus = new WakeBus();
  const kick = new WakeBus();
  const idle = createWaiter({ base: o.sleep, clock: o.clock, key: 'kick', bus: kick });
  const queue = new TableJobQueue(o.store, o.deps, {
    // Unique per instance: leases are matched by this name, and tests run several services in one process.
    worker: `${hostname()}:${process.pid}:webhooks:${o.deps.randomBytes(4).toString('hex')}`,
    concurrency: 1,
    leaseMs: 60_000,
    pollMs: o.idlePollMs ?? 5000,
    sleep: idle.sleep,
    retryDelayMs: (n) => Math.min(60_000, 1000 * 2 ** n),
  });
  queue.work(
    [WEBHOOK_JOB],
    webhookJobHandler({
      store: o.store,
      vault: o.vault,
      deps: o.deps,
      bus,
      ...(o.apple ? { apple: o.apple } : {}),
      ...(o.onReadError ? { onReadError: o.onReadError } : {}),
    }),
  );
  const crossProcess = o.store.dialect === 'postgres';
  return {
    bus,
    receiver: {
      enqueue: (payload) => queue.enqueue(WEBHOOK_JOB, payload, { maxAttempts: 3 }),
      nudge: () => kick.wake('kick'),
    },
    waiter: (teamId, bundleId) =>
      createWaiter({
        base: o.sleep,
        clock: o.clock,
        key: wakeKey(teamId, bundleId),
        bus,
        ...(crossProcess
          ? {
              handledSince: (since: number) => eventHandledSince(o.store, teamId, bundleId, since),
              checkMs: o.crossProcessCheckMs ?? 500,
            }
          : {}),
      }),
    async stop(opts) {
      await queue.stop(opts);
      idle.close();
    },
  };
}
