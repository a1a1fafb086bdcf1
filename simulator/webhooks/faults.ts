import type { Random } from '../../src/core/clock.js';
import { AscendError } from '../../src/core/errors.js';

/**
 * `--webhook-faults drop=P,duplicate=P,delay=MS[:P],reorder=P`: what the network between the simulator and
 * a webhook receiver does to deliveries, each drawn per delivery from the `--fault-seed` PRNG.
 * - drop: the first attempt never reaches the receiver; it is recorded FAILED and retried on the schedule.
 * - duplicate: the same request (same body, same signature) arrives twice; one delivery is recorded.
 * - delay: the first attempt waits MS more on the simulator's clock (P omitted: every delivery).
 * - reorder: the delivery is held back and sent after the next delivery to the same webhook.
 */
export interface WebhookFaults {
  drop: number;
  duplicate: number;
  delayMs: number;
  delayP: number;
  reorder: number;
}

export const NO_WEBHOOK_FAULTS: WebhookFaults = { drop: 0, duplicate: 0, delayMs: 0, delayP: 0, reorder: 0 };

const USAGE = 'use drop=P,duplicate=P,delay=MS[:P],reorder=P with P between 0 and 1';

function bad(what: string): AscendError {
  return new AscendError('USAGE', `--webhook-faults: ${what}; ${USAGE}`);
}

function probability(name: string, v: string | undefined): number {
  const p = Number(v);
  if (v === undefined || v.trim() === '' || !(p >= 0 && p <= 1))
    throw bad(`"${v ?? ''}" for ${name} is not a probability`);
  return p;
}

export function parseWebhookFaults(spec: string | undefined): WebhookFaults {
  const out = { ...NO_WEBHOOK_FAULTS };
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const [name, value] = part.split('=').map((s) => s.trim());
    if (name === 'drop' || name === 'duplicate' || name === 'reorder') out[name] = probability(name, value);
    else if (name === 'delay') {
      const [ms, p] = (value ?? '').split(':');
      const delay = Number(ms);
      if (!ms || !Number.isInteger(delay) || delay < 0) throw bad(`delay "${value ?? ''}" is not whole milliseconds`);
      out.delayMs = delay;
      out.delayP = p === undefined ? 1 : probability('delay', p);
    } else throw bad(`unknown fault "${name}"`);
  }
  return out;
}

/** The faults of one delivery: four draws, always in this order, so a seed replays the same run. */
export function drawWebhookFaults(
  f: WebhookFaults,
  random: Random,
): { drop: boolean; duplicate: boolean; delayMs: number; reorder: boolean } {
  const drop = random() < f.drop;
  const duplicate = random() < f.duplicate;
  const delayMs = random() < f.delayP ? f.delayMs : 0;
  const reorder = random() < f.reorder;
  return { drop, duplicate, delayMs, reorder };
}
