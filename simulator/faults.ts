import type { Random } from '../src/core/clock.js';

export type FaultKind = '5xx' | 'reset' | '429' | 'drop-response';
const KINDS: FaultKind[] = ['5xx', 'reset', '429', 'drop-response'];

export interface FaultPlan {
  kind: FaultKind;
  p: number;
}

/** Parses `5xx=0.05,reset=0.02,429=0.01,drop-response=0.01`. */
export function parseFaults(spec: string | undefined): FaultPlan[] {
  if (!spec) return [];
  const plans = spec.split(',').map((part) => {
    const [k, v] = part.split('=');
    const kind = k?.trim() as FaultKind;
    const p = Number(v);
    if (!KINDS.includes(kind)) throw new Error(`unknown fault "${k}" (use ${KINDS.join(', ')})`);
    if (!(p >= 0 && p <= 1)) throw new Error(`fault probability "${v}" for ${kind} must be between 0 and 1`);
    return { kind, p };
  });
  if (plans.reduce((s, f) => s + f.p, 0) > 1) throw new Error('fault probabilities add up to more than 1');
  return plans;
}

/** Draws the fault (if any) for one request; one random number per request keeps runs reproducible. */
export function drawFault(plans: FaultPlan[], random: Random): FaultKind | undefined {
  if (!plans.length) return undefined;
  let r = random();
  for (const f of plans) {
    if (r < f.p) return f.kind;
    r -= f.p;
  }
  return undefined;
}
