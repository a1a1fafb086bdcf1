import { expect } from 'vitest';
import { createAscClient } from '../../src/asc/http/client.js';
import { FakeClock, seededRandom } from '../../src/core/clock.js';
import { MemoryStateStore } from '../../src/core/state.js';
import type { TokenProvider } from '../../src/credentials/types.js';
import type { DeployOptions, StepOutputs } from '../../src/release/deploy-types.js';
import type { AnyStep, Plan, StepEnv, StepName } from '../../src/release/pipeline.js';
import type { PartTransport } from '../../src/upload/engine.js';
import { type Scripted, type ScriptedFetch, scriptedFetch } from '../helpers/fake-fetch.js';

export const BASE = 'https://asc.test';

const tokens: TokenProvider = { token: async () => 'token', invalidate: () => {} };

/** Sends nothing: a step that uploads parts in these tests is a bug. */
const noTransport: PartTransport = async () => {
  throw new Error('no part may be sent in this test');
};

/** A step environment over Apple's API answered from a script, on a fake clock. */
export function scriptedEnv(script: Scripted[]): {
  fetch: ScriptedFetch;
  env: StepEnv;
  clock: FakeClock;
  notes: string[];
} {
  const fetch = scriptedFetch(script);
  const clock = new FakeClock();
  const notes: string[] = [];
  const client = createAscClient({ baseUrl: BASE, tokens, fetch, clock, sleep: clock.sleep, random: seededRandom(1) });
  const env: StepEnv = {
    client,
    clock,
    sleep: clock.sleep,
    random: seededRandom(2),
    transport: noTransport,
    state: new MemoryStateStore(),
    deadline: clock.now() + 30 * 60_000,
    emit: (e) => {
      if (e.type === 'note') notes.push(e.text);
    },
  };
  return { fetch, env, clock, notes };
}

/** Every scripted answer was asked for and nothing else: the client may wrap a refusal as a network error. */
export function assertScriptDone(fetch: ScriptedFetch): void {
  expect(fetch.violations).toEqual([]);
  expect(fetch.remaining()).toBe(0);
}

/** Apple's list document. */
export const list = (data: unknown[]) => ({ data, links: { self: `${BASE}/self` } });
export const one = (data: unknown) => ({ data, links: { self: `${BASE}/self` } });

export const OPTS: DeployOptions = {
  file: '/nowhere/app.ipa',
  groups: [],
  locale: 'en-US',
  betaReview: false,
  appStore: false,
  submitReview: false,
  release: { type: 'AFTER_APPROVAL' },
  phased: false,
  dryRun: false,
  concurrency: 2,
  deadline: Date.UTC(2026, 0, 1) + 30 * 60_000,
};

export const LOCAL: StepOutputs['preflight'] = {
  file: '/nowhere/app.ipa',
  bytes: 1_000_000,
  bundleId: 'com.example.app',
  version: '1.2.0',
  buildNumber: '7',
  platform: 'IOS',
  usesNonExemptEncryption: false,
  plistAnswers: false,
  blockers: [],
};

/** What one step does with a given input: its read, its plan and, unless `dryRun`, its apply. */
export async function stepOnce<N extends StepName>(
  step: AnyStep & { name: N },
  env: StepEnv,
  out: Partial<StepOutputs>,
  opts: Partial<DeployOptions> = {},
  saved: Partial<StepOutputs> = {},
): Promise<{ skip?: string; plan?: Plan<StepOutputs[N]>; output?: StepOutputs[N] }> {
  // biome-ignore lint/suspicious/noExplicitAny: the step is exercised through its generic shape.
  const s = step as any;
  const input = s.input({ opts: { ...OPTS, ...opts }, out, saved });
  if (input && typeof input === 'object' && 'skip' in input) return { skip: input.skip };
  const current = await s.read(input, env, undefined);
  const plan = s.plan(input, current) as Plan<StepOutputs[N]>;
  if (!plan.actions.length || opts.dryRun) return { plan };
  return { plan, output: await s.apply(input, current, plan, env) };
}
