import type { Clock, Sleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import type { JobContext, JobHandler } from '../queue/types.js';
import { cancelRequested, clearCancel } from '../store/cancels.js';
import { appendDeployEvent, type DeployRecord, type DeployStep, getDeploy, updateDeploy } from '../store/deploys.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { Vault } from '../vault/vault.js';
import type { ArtifactSink } from './artifact-sink.js';
import { buildLog } from './build-log.js';
import type { BuildLogFiles } from './build-log-files.js';
import { type BuildResult, runBuild } from './build-runner.js';
import type { StoredBuild } from './build-spec.js';
import { type DeployJobPayload, runOf, watchCancel } from './deploy-job.js';

/**
 * Where a build's env values come from: the vault in a server process, the server's worker API on a remote
 * worker (which never holds the master key). Values are held in memory for the run only.
 */
export interface BuildEnvSource {
  open(job: JobContext, d: DeployRecord): Promise<Record<string, string>>;
}

/** The server's own worker: the values sealed at `deploys.build_env_ref` (kind `build-env`). */
export function vaultBuildEnv(vault: Vault): BuildEnvSource {
  return {
    async open(_job, d) {
      if (!d.buildEnvRef) return {};
      return JSON.parse((await vault.open(d.teamId, d.buildEnvRef)).toString('utf8')) as Record<string, string>;
    },
  };
}

export interface BuildJobEnv {
  store: Store;
  /** The build's secret env values (vaultBuildEnv locally, the worker API remotely). */
  envValues: BuildEnvSource;
  deps: StoreDeps;
  sleep: Sleep;
  /** Where fresh build folders are made. */
  tempRoot: string;
  /** The environment every build starts from (read once at the edge). */
  baseEnv: Readonly<Record<string, string>>;
  artifacts: ArtifactSink;
  /** Queues the rest of the deploy once the artifact is stored. */
  enqueueDeploy: (payload: DeployJobPayload) => Promise<unknown>;
  /** Cancels of deploys running in this process (shared with the deploy job: the cancel route aborts them). */
  running: Map<string, AbortController>;
  /** Who runs it, shown on the build step (e.g. "host:pid labels linux"). */
  worker: string;
  graceMs?: number;
  /** How often the cross-process cancel flag is read (a cancel sent to another process reaches this build). */
  cancelPollMs?: number;
  maxStoredLines?: number;
  /** Whole logs as files, when this worker keeps them (the server's own worker does). */
  logFiles?: BuildLogFiles;
}

const TAIL = 20;

function stepOf(
  clock: Clock,
  started: number,
  r: BuildResult<unknown> | null,
  status: string,
  detail: string,
): DeployStep {
  return {
    step: 'build',
    status,
    detail,
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(clock.now()).toISOString(),
    exitCode: r?.exitCode ?? null,
    ...(r ? { durationMs: r.durationMs } : {}),
  };
}

/** The failure the deploy shows, from how the command ended; its last lines go in the step's detail. */
function failureOf(b: StoredBuild, r: BuildResult<unknown>): AscendError {
  if (r.outcome === 'timed-out')
    return new AscendError('BUILD_TIMEOUT', `the build ran past its ${b.timeoutMs / 1000} s timeout and was stopped`);
  const how = r.startError
    ? `could not start (${r.startError})`
    : r.exitCode === null
      ? `was ended by ${r.exitSignal}`
      : `exited with code ${r.exitCode}`;
  const last = r.tail.at(-1);
  return new AscendError('BUILD_FAILED', `the build command ${how}${last ? `: ${last.slice(0, 300)}` : ''}`);
}

/**
 * Runs a deploy's build step (docs/SERVER.md, "Build steps"): the command on this worker, its output as
 * `log` events, then the artifact stored through the sink and the rest of the deploy queued with it.
 */
async function runBuildJob(env: BuildJobEnv, job: JobContext): Promise<void> {
  const { teamId, deployId, run } = job.payload as DeployJobPayload;
  const { clock } = env.deps;
  let d = await getDeploy(env.store, teamId, deployId);
  if ((d.state !== 'queued' && d.state !== 'running') || !d.build || d.artifactId) return;
  // A build job a cancel left queued belongs to an earlier run: the retry queued its own.
  if (runOf(d) !== (run ?? 0)) return;
  const build = d.build as unknown as StoredBuild;
  const file = await env.logFiles?.writer(deployId);
  const started = clock.now();
  const others = d.steps.filter((s) => s.step !== 'build');
  const running: DeployStep = {
    step: 'build',
    status: 'running',
    detail: `on ${env.worker}`,
    startedAt: new Date(started).toISOString(),
  };
  d = await updateDeploy(env.store, env.deps, teamId, deployId, { state: 'running', steps: [running, ...others] }, [
    'queued',
    'running',
  ]);
  await appendDeployEvent(env.store, env.deps, teamId, deployId, 'step', running);
  const cancel = new AbortController();
  env.running.set(deployId, cancel);
  // A cancel sent to another process (the API's, when this is a remote worker) arrives as a flag in the database.
  const ended = new AbortController();
  const watched = { store: env.store, sleep: env.sleep, cancelPollMs: env.cancelPollMs };
  const watcher = watchCancel(watched, deployId, cancel, AbortSignal.any([ended.signal, cancel.signal, job.signal]));
  const log = buildLog(env.store, env.deps, teamId, deployId, { maxStored: env.maxStoredLines ?? 20_000, file });
  const end = async (patch: Parameters<typeof updateDeploy>[4], step: DeployStep, state: Record<string, unknown>) => {
    await updateDeploy(env.store, env.deps, teamId, deployId, { ...patch, steps: [step, ...others] }, ['running']);
    await appendDeployEvent(env.store, env.deps, teamId, deployId, 'step', step);
    await appendDeployEvent(env.store, env.deps, teamId, deployId, 'state', state);
  };
  let result: BuildResult<string> | null = null;
  try {
    const signal = AbortSignal.any([cancel.signal, job.signal]);
    // A cancel flagged while this job was being picked up: nothing is started.
    if (await cancelRequested(env.store, deployId))
      cancel.abort(new AscendError('INTERRUPTED', 'the deploy was cancelled'));
    signal.throwIfAborted();
    const values = await env.envValues.open(job, d);
    result = await runBuild(
      { ...build, env: values },
      {
        clock,
        sleep: env.sleep,
        tempRoot: env.tempRoot,
        baseEnv: env.baseEnv,
        onLines: log.onLines,
        signal,
        tailLines: TAIL,
        ...(env.graceMs === undefined ? {} : { graceMs: env.graceMs }),
      },
      (file) => env.artifacts.store(teamId, file, job.id, signal),
    );
    await log.finish();
    if (result.outcome === 'cancelled' && !cancel.signal.aborted)
      throw new AscendError('INTERRUPTED', 'the worker stopped');
    if (result.outcome === 'cancelled') {
      await end({ state: 'cancelled' }, stepOf(clock, started, result, 'cancelled', 'cancelled'), {
        state: 'cancelled',
      });
    } else if (result.outcome !== 'succeeded' || !result.artifact) {
      const error = failureOf(build, result);
      const step = stepOf(clock, started, result, 'failed', result.tail.join('\n'));
      const view = { code: error.code, message: redact(error.message), remedy: error.remedy };
      await end({ state: 'failed', error: view }, step, { state: 'failed', error: view });
    } else {
      const step = stepOf(clock, started, result, 'done', `${result.lines} lines; artifact ${result.artifact}`);
      await end({ state: 'queued', artifactId: result.artifact }, step, { state: 'queued' });
      await env.enqueueDeploy({ teamId, deployId, ...(run === undefined ? {} : { run }) });
    }
  } catch (err) {
    await log.finish().catch(() => {});
    // Stopped from outside (shutdown, lease lost): the job runs again and builds afresh.
    // For a remote worker also the server saying the job is no longer its, or not answering: released, not failed.
    const notLeased =
      err instanceof AscendError && (err.code === 'JOB_NOT_LEASED' || err.code === 'WORKER_SERVER_UNAVAILABLE');
    if ((job.signal.aborted || notLeased) && !cancel.signal.aborted) throw err;
    if (cancel.signal.aborted) {
      // Cancelled before the command started or while its artifact was on its way: cancelled, not failed.
      const step = stepOf(clock, started, result, 'cancelled', 'cancelled');
      await end({ state: 'cancelled' }, step, { state: 'cancelled' });
      return;
    }
    const e = err instanceof AscendError ? err : new AscendError('INTERNAL', 'the build step failed unexpectedly');
    const view = { code: e.code, message: redact(e.message), remedy: e.remedy };
    const step = stepOf(clock, started, result, 'failed', view.message);
    await end({ state: 'failed', error: view }, step, { state: 'failed', error: view });
  } finally {
    env.running.delete(deployId);
    ended.abort();
    await watcher;
    // A stopped run keeps the flag for the run that takes the job again; any other end spends it.
    if (!job.signal.aborted || cancel.signal.aborted) await clearCancel(env.store, deployId).catch(() => {});
  }
}

/** The queue handler for build jobs (kinds from build-spec.ts workerBuildKinds). */
export function buildJobHandler(env: BuildJobEnv): JobHandler {
  return (job) => runBuildJob(env, job);
}
