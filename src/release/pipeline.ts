import { createHash } from 'node:crypto';
import type { AscClient } from '../asc/http/client.js';
import type { OpenSource } from '../core/byte-source.js';
import type { Clock, Random, Sleep } from '../core/clock.js';
import type { StateStore } from '../core/state.js';
import type { PartTransport } from '../upload/engine.js';
import type { Action, DeployOptions, StepOutputs } from './deploy-types.js';
import { describeActions } from './plan-text.js';
import { stateKey } from './state-keys.js';

/** Every step there is; a step's name is checked by the compiler, never matched as free text. */
export type StepName = keyof StepOutputs;

/** planned: a dry run's intent; waiting: held before an irreversible step until it is approved. */
export type StepStatus = 'done' | 'already' | 'checked' | 'skipped' | 'planned' | 'waiting';

/** What a step found missing (as data) and what it yields when nothing more is done. */
export interface Plan<O> {
  actions: Action[];
  /** The step's output if no action runs: final when `actions` is empty, as-far-as-known in a dry run. */
  output: O;
  /** What exists already, for the report when nothing is missing. */
  found: string;
}

/** What steps may use: the client and injected time, randomness, transport and state. */
export interface StepEnv {
  client: AscClient;
  clock: Clock;
  sleep: Sleep;
  random: Random;
  transport: PartTransport;
  state: StateStore;
  signal?: AbortSignal;
  /** Epoch ms by which every wait must be over. */
  deadline: number;
  /** Opens the build's bytes by name: the file system by default; a remote worker reads the server's artifact. */
  openSource?: OpenSource;
  emit(e: { type: 'progress'; sent: number; total: number; sending?: number } | { type: 'note'; text: string }): void;
}

export interface StepInput {
  opts: DeployOptions;
  /** Outputs of the steps before this one. */
  out: Partial<StepOutputs>;
  /** Outputs saved by an earlier run of this deploy, so a step can recognise what that run made. */
  saved: Partial<StepOutputs>;
}

/**
 * One step: `read` what exists at Apple (or in the file), `plan` what is missing as data, `apply` it.
 * Steps never look at dry-run, never save state and never report: the runner does.
 */
export interface Step<N extends StepName, I, C> {
  readonly name: N;
  /** External beta review and App Review cannot be taken back: the runner asks `beforeApply` first. */
  readonly irreversible?: boolean;
  /** A check only (it never changes anything): reported `checked`. */
  readonly check?: boolean;
  /** This step's input from the options and earlier outputs, or why the options do not ask for it. */
  input(from: StepInput): I | { skip: string };
  /** `saved` is this step's output from an earlier run with the same input, if any. */
  read(input: I, env: StepEnv, saved: StepOutputs[N] | undefined): Promise<C>;
  plan(input: I, current: C): Plan<StepOutputs[N]>;
  apply(input: I, current: C, plan: Plan<StepOutputs[N]>, env: StepEnv): Promise<StepOutputs[N]>;
}

// biome-ignore lint/suspicious/noExplicitAny: a pipeline holds steps of different input and read types.
export type AnyStep = { [N in StepName]: Step<N, any, any> }[StepName];

/** Keeps a step's own types while it is written; the list of steps only needs `AnyStep`. */
export const defineStep = <N extends StepName, I, C>(step: Step<N, I, C>): Step<N, I, C> => step;

export interface StepReport {
  step: StepName;
  status: StepStatus;
  detail: string;
  startedAt: number;
  endedAt: number;
}

export type RunEvent =
  | { type: 'step-started'; step: StepName; at: number }
  | ({ type: 'step'; durationMs: number } & StepReport)
  /** `sent`: bytes Apple acknowledged; `sending`: bytes on the way, not yet acknowledged. */
  | { type: 'progress'; sent: number; total: number; sending?: number }
  | { type: 'note'; text: string };

export interface RunOptions {
  /** The deploy's id: the namespace of its saved state (one per deploy on a server, per file in the CLI). */
  id: string;
  env: Omit<StepEnv, 'emit'>;
  onEvent?: (e: RunEvent) => void;
  /** Asked before an irreversible step applies its plan; 'wait' stops the run there (state saved). */
  beforeApply?: (step: StepName, plan: Action[]) => Promise<'go' | 'wait'>;
}

export interface RunReport {
  id: string;
  dryRun: boolean;
  changed: boolean;
  /** The irreversible step the run stopped before, waiting for approval; null when it ran to the end. */
  awaiting: StepName | null;
  steps: StepReport[];
  out: Partial<StepOutputs>;
}

interface SavedRun {
  steps: Partial<Record<StepName, { input: string; output: unknown }>>;
}

const fingerprint = (input: unknown) => createHash('sha256').update(JSON.stringify(input)).digest('hex');

/**
 * Runs steps in order. The runner alone handles dry-run (read and plan, never apply, no state written),
 * events, the report, approval before irreversible steps, cancellation between steps (and inside waits,
 * through the signal), and each step's output saved under `stateKey('run', id)`, so a run after a crash
 * continues and a run after success reads everything, finds nothing missing and changes nothing.
 */
export async function runPipeline(steps: readonly AnyStep[], opts: DeployOptions, run: RunOptions): Promise<RunReport> {
  const key = stateKey('run', run.id);
  const saved: SavedRun = (await run.env.state.get<SavedRun>(key)) ?? { steps: {} };
  const env: StepEnv = { ...run.env, emit: (e) => run.onEvent?.(e) };
  const earlier = Object.fromEntries(
    Object.entries(saved.steps).map(([k, v]) => [k, v?.output]),
  ) as Partial<StepOutputs>;
  const report: RunReport = { id: run.id, dryRun: opts.dryRun, changed: false, awaiting: null, steps: [], out: {} };
  for (const step of steps) {
    run.env.signal?.throwIfAborted();
    const startedAt = env.clock.now();
    run.onEvent?.({ type: 'step-started', step: step.name, at: startedAt });
    const outcome = await runStep(step, { opts, out: report.out, saved: earlier }, report, env, saved, run);
    const r: StepReport = { step: step.name, ...outcome, startedAt, endedAt: env.clock.now() };
    report.steps.push(r);
    if (r.status === 'done') report.changed = true;
    if (!opts.dryRun && (r.status === 'done' || r.status === 'already')) await env.state.put(key, saved);
    run.onEvent?.({ type: 'step', ...r, durationMs: r.endedAt - r.startedAt });
    if (r.status === 'waiting') {
      report.awaiting = step.name;
      break;
    }
  }
  return report;
}

async function runStep(
  step: AnyStep,
  from: StepInput,
  report: RunReport,
  env: StepEnv,
  saved: SavedRun,
  run: RunOptions,
): Promise<{ status: StepStatus; detail: string }> {
  // The union of step types is collapsed here on purpose: each step's own types were checked where it was defined.
  const s = step as Step<StepName, unknown, unknown>;
  const { opts } = from;
  const input = s.input(from);
  if (input && typeof input === 'object' && 'skip' in input) return { status: 'skipped', detail: String(input.skip) };
  const inputPrint = fingerprint(input);
  const prior = saved.steps[s.name];
  const current = await s.read(input, env, prior?.input === inputPrint ? (prior.output as never) : undefined);
  const plan = s.plan(input, current);
  const keep = (output: unknown) => {
    (report.out as Record<string, unknown>)[s.name] = output;
    if (!opts.dryRun) saved.steps[s.name] = { input: inputPrint, output };
  };
  if (!plan.actions.length) {
    keep(plan.output);
    return { status: s.check ? 'checked' : 'already', detail: plan.found };
  }
  if (opts.dryRun) {
    (report.out as Record<string, unknown>)[s.name] = plan.output;
    return { status: 'planned', detail: describeActions(plan.actions, 'plan') };
  }
  if (s.irreversible && run.beforeApply && (await run.beforeApply(s.name, plan.actions)) === 'wait') {
    return {
      status: 'waiting',
      detail: `awaiting approval to ${describeActions(plan.actions, 'plan').replace(/^would /, '')}`,
    };
  }
  keep(await s.apply(input, current, plan, env));
  return { status: 'done', detail: describeActions(plan.actions, 'done') };
}
