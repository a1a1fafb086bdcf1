import { describe, expect, it } from 'vitest';
import { OPTS } from '../../test/release/kit.js';
import { FakeClock } from '../core/clock.js';
import { MemoryStateStore } from '../core/state.js';
import type { AnyStep, RunEvent, RunOptions, StepEnv } from './pipeline.js';
import { defineStep, runPipeline } from './pipeline.js';

/** A tiny world of two facts and two steps that set them, each taking 5 s of (fake) time to apply. */
function world(signal?: AbortSignal) {
  const facts = { whatsNew: null as string | null, reviewed: false };
  const writes: string[] = [];
  const clock = new FakeClock();
  const whatsNew = defineStep({
    name: 'whatsNew',
    input: ({ opts }) => ({ text: opts.whatsNew ?? '' }),
    read: async () => facts.whatsNew,
    plan: (input: { text: string }, current: string | null) =>
      current === input.text
        ? { actions: [], output: { id: 'l1', locale: 'en-US' }, found: 'set' }
        : { actions: [{ kind: 'setWhatsNew' as const, locale: 'en-US', existingId: null }], output: null, found: '' },
    apply: async (input) => {
      clock.advance(5000);
      writes.push('whatsNew');
      facts.whatsNew = input.text;
      return { id: 'l1', locale: 'en-US' };
    },
  });
  const betaReview = defineStep({
    name: 'betaReview',
    irreversible: true,
    input: () => ({}),
    read: async () => facts.reviewed,
    plan: (_input: object, reviewed: boolean) =>
      reviewed
        ? { actions: [], output: { id: 's1', betaReviewState: 'WAITING_FOR_REVIEW' }, found: 'requested' }
        : { actions: [{ kind: 'submitBetaReview' as const }], output: null, found: '' },
    apply: async () => {
      writes.push('betaReview');
      facts.reviewed = true;
      return { id: 's1', betaReviewState: 'WAITING_FOR_REVIEW' };
    },
  });
  const state = new MemoryStateStore();
  // Only what these steps use; a step reaching for the client would fail the test.
  const env = { clock, sleep: clock.sleep, state, deadline: 0, signal } as unknown as Omit<StepEnv, 'emit'>;
  const steps: AnyStep[] = [whatsNew, betaReview];
  const run = (opts: Partial<typeof OPTS> = {}, extra: Partial<RunOptions> = {}) =>
    runPipeline(steps, { ...OPTS, whatsNew: 'hello', ...opts }, { id: 'd1', env, ...extra });
  return { facts, writes, state, run };
}

describe('runPipeline', () => {
  it('reports each step started and ended, with the time it took on the injected clock', async () => {
    const { run } = world();
    const events: RunEvent[] = [];
    const r = await run({}, { onEvent: (e) => events.push(e) });
    expect(events.map((e) => (e.type === 'step' ? `${e.step}:${e.status}:${e.durationMs}` : e.type))).toEqual([
      'step-started',
      'whatsNew:done:5000',
      'step-started',
      'betaReview:done:0',
    ]);
    expect(r.steps.map((s) => s.detail)).toEqual([
      'created "What to Test" (en-US)',
      'submitted for external beta review',
    ]);
    expect(r.changed).toBe(true);
  });

  it('a dry run applies nothing and saves nothing; a second real run changes nothing', async () => {
    const { run, writes, state } = world();
    const dry = await run({ dryRun: true });
    expect(dry.steps.map((s) => `${s.status}:${s.detail}`)).toEqual([
      'planned:would create "What to Test" (en-US)',
      'planned:would submit the build for external beta review',
    ]);
    expect(writes).toEqual([]);
    expect(state.data.size).toBe(0);
    await run();
    const again = await run();
    expect(again.changed).toBe(false);
    expect(again.steps.map((s) => s.status)).toEqual(['already', 'already']);
    expect(writes).toEqual(['whatsNew', 'betaReview']);
    expect(JSON.parse(state.data.get('run-d1')!).steps.betaReview.output).toEqual({
      id: 's1',
      betaReviewState: 'WAITING_FOR_REVIEW',
    });
  });

  it('a cancel between steps stops before the next one starts', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const { run, writes } = world(controller.signal);
    const started: string[] = [];
    const onEvent = (e: RunEvent) => {
      if (e.type === 'step-started') started.push(e.step);
      if (e.type === 'step' && e.step === 'whatsNew') controller.abort(reason);
    };
    await expect(run({}, { onEvent })).rejects.toBe(reason);
    expect(started).toEqual(['whatsNew']);
    expect(writes).toEqual(['whatsNew']);
  });

  it('asks before the irreversible step only; "wait" stops there with the state saved', async () => {
    const { run, writes, facts } = world();
    const asked: string[] = [];
    const held = await run(
      {},
      {
        beforeApply: async (step) => {
          asked.push(step);
          return 'wait';
        },
      },
    );
    expect(held).toMatchObject({ awaiting: 'betaReview', changed: true });
    expect(held.steps.at(-1)?.detail).toBe('awaiting approval to submit the build for external beta review');
    expect(facts.reviewed).toBe(false);
    const go = await run({}, { beforeApply: async () => 'go' });
    expect(go.steps.map((s) => s.status)).toEqual(['already', 'done']);
    expect(asked).toEqual(['betaReview']);
    expect(writes).toEqual(['whatsNew', 'betaReview']);
  });
});
