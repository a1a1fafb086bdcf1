import type { AscClient } from '../../asc/http/client.js';
import type { OpenSource } from '../../core/byte-source.js';
import type { Clock, Random, Sleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import { deploy } from '../../release/deploy.js';
import type { DeployOptions } from '../../release/deploy-types.js';
import type { RunEvent, StepName } from '../../release/pipeline.js';
import type { PartTransport } from '../../upload/engine.js';
import type { AscClients } from '../apple/clients.js';
import type { DeployHook } from '../notify/deploy-events.js';
import type { JobContext, JobHandler, JobQueue } from '../queue/types.js';
import type { ArtifactFiles } from '../store/artifact-files.js';
import { getArtifact } from '../store/artifacts.js';
import { cancelRequested, clearCancel } from '../store/cancels.js';
import {
  appendDeployEvent,
  type DeployRecord,
  type DeployStep,
  getDeploy,
  listDeployEvents,
  updateDeploy,
} from '../store/deploys.js';
import type { StoreDeps } from '../store/ids.js';
import { openKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { getSettings } from '../store/settings.js';
import { DbStateStore } from '../store/step-state.js';
import type { Vault } from '../vault/vault.js';
import type { Waiter } from '../webhooks/wake.js';
import { holdKeySlot, type KeySlotPolicy } from './key-slot-hold.js';

export const DEPLOY_JOB = 'deploy';
export interface DeployJobPayload {
  teamId: string;
  deployId: string;
  /** The deploy's run generation this job belongs to (absent: 0, jobs queued before generations). */
  run?: number;
}

/** Per-key slots over the queue: 60 s slot leases, and a deploy finding none free queued again 15 s later. */
export function queueKeySlots(queue: Pick<JobQueue, 'enqueue'>): KeySlotPolicy {
  return {
    leaseMs: 60_000,
    retryAfterMs: 15_000,
    requeue: async (payload, runAt) => void (await queue.enqueue(DEPLOY_JOB, payload, { runAt, maxAttempts: 5 })),
  };
}

/**
 * The deploy's current run generation, kept in its stored options: each retry bumps it, so a job left in the
 * queue by an earlier run (a cancel of a queued deploy does not remove its job) sees it is stale and exits.
 */
export function runOf(d: Pick<DeployRecord, 'options'>): number {
  const run = d.options.run;
  return typeof run === 'number' && Number.isSafeInteger(run) && run > 0 ? run : 0;
}

/** What a run needs to reach Apple and the build: a client for the deploy's key, and the build's bytes. */
export interface DeployAccess {
  open(job: JobContext, d: DeployRecord): Promise<{ client: AscClient; file: string; openSource?: OpenSource }>;
}

export interface DeployJobEnv {
  store: Store;
  deps: StoreDeps;
  /** In the server's process: the key from the vault, the artifact from the data folder (localAccess). */
  vault?: Vault;
  clients?: AscClients;
  files?: ArtifactFiles;
  /** On a worker elsewhere: short-lived credentials and signed artifact URLs from the server. */
  access?: DeployAccess;
  /** The worker's --labels, for handlers that route on them (build steps). */
  labels?: readonly string[];
  sleep: Sleep;
  random: Random;
  transport: () => Promise<PartTransport>;
  /** Cancels of deploys running in this process, by deploy id (the cancel route aborts them). */
  running: Map<string, AbortController>;
  /** Roots trusted beside Apple's for profiles, as the inspector trusts them. */
  extraTrustedRoots?: readonly string[];
  /** How long one run may take before its waits give up. */
  deadlineMs?: number;
  /**
   * A sleep for the run's waits that webhook events for the app (by bundle id) end early; the polls keep
   * their schedule otherwise (docs/SERVER.md, "Incoming webhooks"). Absent: `sleep` alone.
   */
  waiter?: (teamId: string, bundleId: string) => Waiter;
  /** Told of each change worth a notification (src/server/notify/deploy-events.ts); never throws. */
  notify?: DeployHook;
  /** How often a running deploy looks for a cancel left by another process (default 1 s). */
  cancelPollMs?: number;
  /** Per-key concurrency across workers (docs/SERVER.md, "Scaling out"); no limit when absent. */
  keySlots?: KeySlotPolicy;
}

/** Aborts `cancel` once the database holds a cancel for this deploy (the API may be another process). */
/** Polls the cross-process cancel flag until `until`; the build job watches it the same way. */
export async function watchCancel(
  env: Pick<DeployJobEnv, 'store' | 'sleep' | 'cancelPollMs'>,
  deployId: string,
  cancel: AbortController,
  until: AbortSignal,
) {
  while (!until.aborted) {
    await env.sleep(env.cancelPollMs ?? 1000, until).catch(() => {});
    if (until.aborted) return;
    if (await cancelRequested(env.store, deployId).catch(() => false))
      cancel.abort(new AscendError('INTERRUPTED', 'the deploy was cancelled'));
  }
}

/** Errors that are no fault of the deploy: its job goes back to the queue and resumes from the saved state. */
const RELEASED: ReadonlySet<string> = new Set(['JOB_NOT_LEASED', 'WORKER_SERVER_UNAVAILABLE']);

/** The approval policy (team setting `approvals`): which irreversible steps need an admin first. */
const GATED: Partial<Record<StepName, 'betaReview' | 'submitReview'>> = {
  betaReview: 'betaReview',
  submitReview: 'submitReview',
};

/** Before an irreversible step: 'wait' while the team requires an approval that is not recorded yet. */
async function gate(env: DeployJobEnv, d: DeployRecord, step: StepName): Promise<'go' | 'wait'> {
  const which = GATED[step];
  if (!which) return 'go';
  const approvals = (await getSettings(env.store, d.teamId)).approvals as Record<string, unknown> | undefined;
  if (approvals?.[which] !== true) return 'go';
  const events = await listDeployEvents(env.store, d.teamId, d.id, { limit: 1000 });
  return events.some((e) => e.type === 'approval' && (e.data as { step?: string }).step === step) ? 'go' : 'wait';
}

/** The pipeline's options from what the API stored, with the artifact's file in place of a path. */
function optionsOf(
  d: DeployRecord,
  file: string,
  clock: Clock,
  deadlineMs: number,
  extraTrustedRoots: readonly string[],
): DeployOptions {
  const o = d.options as Partial<DeployOptions>;
  return {
    file,
    groups: o.groups ?? [],
    ...(o.whatsNew !== undefined ? { whatsNew: o.whatsNew } : {}),
    locale: o.locale ?? 'en-US',
    ...(o.encryption ? { encryption: o.encryption } : {}),
    betaReview: o.betaReview ?? false,
    appStore: o.appStore ?? false,
    submitReview: o.submitReview ?? false,
    release: o.release ?? { type: 'AFTER_APPROVAL' },
    phased: o.phased ?? false,
    // A dry run reads from Apple and records the plan as its log; it changes nothing there.
    dryRun: o.dryRun ?? false,
    concurrency: 4,
    deadline: clock.now() + deadlineMs,
    extraTrustedRoots,
  };
}

/**
 * Writes the run's events as deploy_events (for Server-Sent Events) and its step list on the deploy row,
 * in order: the pipeline's callback is synchronous, so writes are chained and awaited at the end. Upload
 * progress is written at most once per percent, so a large file does not flood the table.
 */
function eventSink(env: DeployJobEnv, d: DeployRecord, shown: { path?: string; name?: string }) {
  // The pipeline names the file it read; people see the uploaded name, never the server's data folder.
  const clean = (text: string) => {
    const plain = redact(text);
    return shown.path && shown.name ? plain.split(shown.path).join(shown.name) : plain;
  };
  const steps: DeployStep[] = [...d.steps];
  let chain: Promise<unknown> = Promise.resolve();
  let lastPercent = -1;
  const write = (type: string, data: unknown, patch?: Parameters<typeof updateDeploy>[4]) => {
    chain = chain.then(async () => {
      await appendDeployEvent(env.store, env.deps, d.teamId, d.id, type, data);
      if (patch) await updateDeploy(env.store, env.deps, d.teamId, d.id, patch, ['running']).catch(() => {});
    });
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  const onEvent = (e: RunEvent) => {
    if (e.type === 'step-started') {
      steps.push({ step: e.step, status: 'running', startedAt: iso(e.at) });
      write('step', { step: e.step, status: 'running' }, { steps: [...steps] });
    } else if (e.type === 'step') {
      const row = {
        step: e.step,
        status: e.status,
        detail: clean(e.detail),
        startedAt: iso(e.startedAt),
        endedAt: iso(e.endedAt),
      };
      const at = steps.findLastIndex((s) => s.step === e.step);
      if (at >= 0) steps[at] = row;
      else steps.push(row);
      write('step', row, { steps: [...steps] });
      chain = chain.then(() => env.notify?.(d, { kind: 'step', step: e.step, status: e.status }));
    } else if (e.type === 'progress') {
      const percent = e.total > 0 ? Math.floor((e.sent / e.total) * 100) : 0;
      if (percent === lastPercent) return;
      lastPercent = percent;
      write('progress', { sent: e.sent, total: e.total }, { progress: percent / 100 });
    } else write('log', { text: clean(e.text) });
  };
  return { onEvent, flush: () => chain };
}

/** The failure as the API shows it: code, one line and remedy; never a stack or an Apple URL. */
function errorOf(err: unknown): { code: string; message: string; remedy?: string } {
  if (err instanceof AscendError) return { code: err.code, message: redact(err.message), remedy: err.remedy };
  return { code: 'INTERNAL', message: 'the deploy failed unexpectedly' };
}

/** The server's own access: the key from the vault, the artifact's file in the data folder. */
function localAccess(env: DeployJobEnv): DeployAccess {
  return {
    async open(_job, d) {
      if (!env.vault || !env.clients || !env.files) throw new Error('a local deploy job needs the vault and files');
      const artifact = await getArtifact(env.store, d.teamId, d.artifactId ?? '');
      const key = await openKey(env.store, env.vault, d.teamId, d.keyRef ?? '');
      return { client: env.clients.for(key), file: env.files.pathOf(artifact.sha256) };
    },
  };
}

/** Runs one deploy job: the pipeline with the deploy's database StateStore, so a rerun resumes it. */
async function runDeployJob(env: DeployJobEnv, job: JobContext): Promise<void> {
  const payload = job.payload as DeployJobPayload;
  const { teamId, deployId } = payload;
  const run = payload.run ?? 0;
  const { clock } = env.deps;
  const d = await getDeploy(env.store, teamId, deployId);
  if (d.state !== 'queued' && d.state !== 'running') return; // cancelled, finished or waiting meanwhile
  if (runOf(d) !== run) return; // a job of an earlier run: the retry queued the one that runs it now
  // The slot is the run's (job id and attempt), not the deploy's: a lost run releasing its slot late must
  // not free the one the resuming run holds.
  const holder = `${job.id}:${job.attempt}`;
  const slot = env.keySlots && d.keyRef ? await holdKeySlot(env, env.keySlots, teamId, d.keyRef, holder) : null;
  if (slot === undefined) {
    // Every slot of the key is busy: this job ends and a later one tries again; the deploy stays queued.
    await env.keySlots?.requeue({ ...payload }, clock.now() + env.keySlots.retryAfterMs);
    return;
  }
  try {
    await runHoldingSlot(env, job, d, run, slot?.lost);
  } finally {
    await slot?.release();
  }
}

async function runHoldingSlot(
  env: DeployJobEnv,
  job: JobContext,
  queued: DeployRecord,
  run: number,
  slotLost: AbortSignal | undefined,
): Promise<void> {
  const { teamId, id: deployId } = queued;
  const { clock } = env.deps;
  const d = await updateDeploy(env.store, env.deps, teamId, deployId, { state: 'running' }, [
    'queued',
    'running',
  ]).catch((err: unknown) => {
    // Cancelled or ended meanwhile: nothing left for this job.
    if (err instanceof AscendError && err.code === 'DEPLOY_STATE_CONFLICT') return undefined;
    throw err;
  });
  if (!d) return;
  // Cancelled and retried between the check above and this update: the new run's job runs it, not this one.
  if (runOf(d) !== run) return;
  // Stopped from outside: shutdown, the job's lease lost, or the key slot lost (another run may hold it).
  const stopped = slotLost ? AbortSignal.any([job.signal, slotLost]) : job.signal;
  await env.notify?.(d, { kind: 'started' });
  const cancel = new AbortController();
  env.running.set(deployId, cancel);
  const signal = AbortSignal.any([cancel.signal, stopped]);
  const ended = new AbortController();
  const watcher = watchCancel(env, deployId, cancel, AbortSignal.any([ended.signal, signal]));
  const shown: { path?: string; name?: string } = {};
  const sink = eventSink(env, d, shown);
  let waiter: Waiter | undefined;
  try {
    // A cancel flagged while this job was being picked up (or while a lost run still held the deploy).
    if (await cancelRequested(env.store, deployId))
      cancel.abort(new AscendError('INTERRUPTED', 'the deploy was cancelled'));
    signal.throwIfAborted();
    const artifact = await getArtifact(env.store, teamId, d.artifactId ?? '');
    const access = await (env.access ?? localAccess(env)).open(job, d);
    // Log lines name the upload, never the server's file path (a remote worker's is the name already).
    shown.path = access.file;
    shown.name = artifact.filename;
    // Facts are shaped as `ipa inspect --json`'s: the main app's bundle id is `app.bundleId`.
    const bundleId = (artifact.facts as { app?: { bundleId?: unknown } | null } | null)?.app?.bundleId;
    if (env.waiter && typeof bundleId === 'string') waiter = env.waiter(teamId, bundleId);
    const transport = await env.transport();
    const report = await deploy(
      optionsOf(d, access.file, clock, env.deadlineMs ?? 7_200_000, env.extraTrustedRoots ?? []),
      {
        client: access.client,
        ...(access.openSource ? { openSource: access.openSource } : {}),
        clock,
        sleep: waiter?.sleep ?? env.sleep,
        random: env.random,
        transport,
        state: new DbStateStore(env.store, deployId, clock),
        signal,
        id: deployId,
        onEvent: sink.onEvent,
        beforeApply: (step) => gate(env, d, step),
      },
    );
    await sink.flush();
    if (report.awaiting) {
      await updateDeploy(env.store, env.deps, teamId, deployId, { state: 'awaiting_approval' }, ['running']);
      await appendDeployEvent(env.store, env.deps, teamId, deployId, 'state', {
        state: 'awaiting_approval',
        step: report.awaiting,
      });
      await env.notify?.(d, { kind: 'state', state: 'awaiting_approval', step: report.awaiting });
      return;
    }
    await updateDeploy(env.store, env.deps, teamId, deployId, { state: 'succeeded', progress: 1 }, ['running']);
    await appendDeployEvent(env.store, env.deps, teamId, deployId, 'state', { state: 'succeeded' });
    await env.notify?.(d, { kind: 'state', state: 'succeeded' });
  } catch (err) {
    await sink.flush();
    if (cancel.signal.aborted) {
      await updateDeploy(env.store, env.deps, teamId, deployId, { state: 'cancelled' }, ['running']);
      await appendDeployEvent(env.store, env.deps, teamId, deployId, 'state', { state: 'cancelled' });
      return;
    }
    // Stopped from outside (shutdown, lease lost; for a remote worker also the server saying the job is no
    // longer its): the job is run again and resumes from the saved state.
    if (stopped.aborted || (err instanceof AscendError && RELEASED.has(err.code))) throw err;
    const error = errorOf(err);
    await updateDeploy(env.store, env.deps, teamId, deployId, { state: 'failed', error }, ['running']);
    const seq = await appendDeployEvent(env.store, env.deps, teamId, deployId, 'state', { state: 'failed', error });
    await env.notify?.(d, { kind: 'state', state: 'failed', error, seq });
  } finally {
    waiter?.close();
    env.running.delete(deployId);
    ended.abort();
    await watcher;
    // A stopped or lost run keeps the flag for the worker that resumes it; any other end spends it.
    if (!stopped.aborted || cancel.signal.aborted) await clearCancel(env.store, deployId).catch(() => {});
  }
}

/**
 * When the queue gives up on a deploy's job (its last attempt failed or its worker was lost), the deploy is
 * failed with WORKER_LOST, unless it moved on meanwhile (cancelled, ended, or retried as a newer run).
 */
export async function failLostDeploy(
  env: Pick<DeployJobEnv, 'store' | 'deps' | 'notify'>,
  payload: Partial<DeployJobPayload>,
): Promise<void> {
  if (typeof payload?.teamId !== 'string' || typeof payload.deployId !== 'string') return;
  const { teamId, deployId } = payload;
  const d = await getDeploy(env.store, teamId, deployId);
  if ((d.state !== 'queued' && d.state !== 'running') || runOf(d) !== (payload.run ?? 0)) return;
  const error = errorOf(new AscendError('WORKER_LOST', 'the deploy’s worker was lost on its last attempt'));
  try {
    await updateDeploy(env.store, env.deps, teamId, deployId, { state: 'failed', error }, ['queued', 'running']);
  } catch (err) {
    if (err instanceof AscendError && err.code === 'DEPLOY_STATE_CONFLICT') return; // it moved on just now
    throw err;
  }
  const seq = await appendDeployEvent(env.store, env.deps, teamId, deployId, 'state', { state: 'failed', error });
  await env.notify?.(d, { kind: 'state', state: 'failed', error, seq });
}

/** The queue handler for deploy jobs. */
export function deployJobHandler(env: DeployJobEnv): JobHandler {
  return (job) => runDeployJob(env, job);
}
