import type { Agent } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { createAscClient } from '../../asc/http/client.js';
import { RateLimitTracker } from '../../asc/http/rate-limit.js';
import type { Clock, Random, Sleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { httpTransport } from '../../upload/engine.js';
import { dbRateBudget } from '../apple/rate-budget.js';
import { type DeployHook, deployNotifications } from '../notify/deploy-events.js';
import { Notifier, notifyEnqueuer } from '../notify/notifier.js';
import { openJobQueue } from '../queue/open.js';
import type { GiveUpHook, JobHandler, JobQueue } from '../queue/types.js';
import { type StoreDeps, systemDeps } from '../store/ids.js';
import { migrate } from '../store/migrate.js';
import { openStore, type Store, storeLocation } from '../store/open.js';
import { buildJobHandler } from './build-job.js';
import { workerBuildKinds } from './build-spec.js';
import {
  DEPLOY_JOB,
  type DeployAccess,
  type DeployJobPayload,
  deployJobHandler,
  failLostDeploy,
  queueKeySlots,
} from './deploy-job.js';
import { httpRangeSource, rangeAgent } from './http-source.js';
import { type FetchFn, JobCredentials, WorkerApiClient } from './worker-api.js';

export interface RemoteWorkerOptions {
  databaseUrl: string;
  /** The server's URL (`ascend server start`), for credentials and artifacts. */
  server: string;
  token: string;
  labels: readonly string[];
  concurrency: number;
  /** App Store Connect (or a simulator). */
  apiUrl: string;
  /** How long a claim holds without a heartbeat: a killed worker's job is taken again after it. */
  leaseMs?: number;
  pollMs?: number;
  clock: Clock;
  sleep: Sleep;
  random: Random;
  fetch?: FetchFn;
  extraTrustedRoots?: readonly string[];
  /** Where fresh build folders are made (the system's temporary folder by default). */
  buildDir?: string;
  /** The environment every build starts from (buildBaseEnv of this process's, read at the edge). */
  buildEnv?: Readonly<Record<string, string>>;
  /** SIGTERM → SIGKILL grace of a build's process group. */
  buildGraceMs?: number;
  /** Told once when the server refuses this worker's token: the worker has stopped taking jobs. */
  onFatal?: (err: AscendError) => void;
}

export interface RemoteWorker {
  /** host:pid behind this worker's token id, as the jobs table shows it. */
  readonly name: string;
  readonly queue: JobQueue;
  /** Stops taking jobs; running ones get `timeoutMs` to finish, then stop at a safe point and are released. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
}

/**
 * The one place the worker's queue is made: `openJobQueue` picks the server's kind for this database
 * (pg-boss on PostgreSQL), so workers and server always share one queue.
 */
export function workerQueue(
  store: Store,
  deps: StoreDeps,
  o: {
    worker: string;
    concurrency: number;
    leaseMs: number;
    pollMs: number;
    sleep: Sleep;
    clock: Clock;
    onGiveUp?: GiveUpHook;
  },
): Promise<JobQueue> {
  return openJobQueue(store, deps, o);
}

/**
 * A deploy's access from another machine: App Store Connect through tokens the server mints per leased job,
 * the build through its signed URL by byte range. One rate budget per Apple key in this process, backed on
 * PostgreSQL by the budget the server and every other worker share, as the server's AscClients does.
 */
function remoteAccess(
  o: RemoteWorkerOptions,
  store: Store,
  api: WorkerApiClient,
  worker: string,
  agent: Agent,
  onTokenRefused?: (err: AscendError) => void,
): DeployAccess {
  const budgets = new Map<string, RateLimitTracker>();
  return {
    async open(job) {
      const creds = new JobCredentials(api, job.id, worker, o.clock);
      const first = await creds.get().catch((err: unknown) => {
        if (err instanceof AscendError && err.code === 'JOB_NOT_LEASED') throw err;
        if (err instanceof AscendError && err.code === 'WORKER_TOKEN_INVALID') onTokenRefused?.(err);
        // The server is down or restarting (or refused this worker): that is no fault of the deploy, whose
        // job goes back to the queue with its state saved instead of failing.
        throw new AscendError('WORKER_SERVER_UNAVAILABLE', 'the server did not hand out this job’s credentials', {
          cause: err,
        });
      });
      // On PostgreSQL the key's budget is the one the server and every worker share (rate_budgets).
      const { keyId } = first.appStoreConnect;
      const rateLimit =
        budgets.get(keyId) ??
        new RateLimitTracker(
          o.clock,
          o.sleep,
          store.dialect === 'postgres' ? dbRateBudget(store, o.clock, keyId) : undefined,
        );
      budgets.set(keyId, rateLimit);
      const client = createAscClient({
        baseUrl: o.apiUrl,
        tokens: creds.tokens(),
        clock: o.clock,
        sleep: o.sleep,
        rateLimit,
      });
      const { filename, size } = first.artifact;
      return {
        client,
        file: filename,
        openSource: async () =>
          httpRangeSource({
            name: filename,
            size,
            url: (opts) => creds.artifactUrl(opts),
            token: api.bearer,
            agent,
            sleep: o.sleep,
            signal: job.signal,
          }),
      };
    },
  };
}

/**
 * A build on another machine: its env values and its artifact go through the server's worker API (per
 * leased job), since the worker holds no master key and no artifact store; its log goes to the database.
 */
function remoteBuildHandler(
  o: RemoteWorkerOptions,
  store: Store,
  deps: StoreDeps,
  api: WorkerApiClient,
  name: string,
  queue: JobQueue,
): JobHandler {
  return buildJobHandler({
    store,
    deps,
    sleep: o.sleep,
    envValues: {
      open: (job) =>
        api.buildEnv(job.id, name).catch((err: unknown) => {
          if (err instanceof AscendError && err.code === 'JOB_NOT_LEASED') throw err;
          throw new AscendError('WORKER_SERVER_UNAVAILABLE', 'the server did not hand out this build’s values', {
            cause: err,
          });
        }),
    },
    artifacts: { store: (_teamId, file, jobId, signal) => api.uploadArtifact(jobId, name, file, signal) },
    enqueueDeploy: (payload) => queue.enqueue(DEPLOY_JOB, payload, { maxAttempts: 5 }),
    tempRoot: o.buildDir ?? tmpdir(),
    baseEnv: o.buildEnv ?? {},
    running: new Map(),
    cancelPollMs: o.pollMs ?? 500,
    worker: `${name} (${o.labels.join(', ') || 'no labels'})`,
    ...(o.buildGraceMs === undefined ? {} : { graceMs: o.buildGraceMs }),
  });
}

/** `ascend worker`: checks its token with the server, then works deploy and build jobs from the shared database. */
export async function startRemoteWorker(o: RemoteWorkerOptions): Promise<RemoteWorker> {
  // Refused before anything opens: at most 6 labels, as build jobs are routed by every subset of them.
  const buildKinds = workerBuildKinds(o.labels);
  const api = new WorkerApiClient(o.server.replace(/\/+$/, ''), o.token, o.fetch);
  const me = await api.me();
  const name = `${me.id}@${hostname()}:${process.pid}`;
  const store = await openStore(storeLocation(o.databaseUrl, '.'));
  const deps: StoreDeps = { clock: o.clock, randomBytes: systemDeps.randomBytes };
  let queue: JobQueue;
  // Set once the queue (which the notifier needs) exists; the give-up hook only runs after that.
  let lostNotify: DeployHook | undefined;
  let refused: AscendError | undefined;
  try {
    await migrate(store);
    queue = await workerQueue(store, deps, {
      // A deploy or build whose last attempt is lost here fails (WORKER_LOST) instead of staying running.
      onGiveUp: async (job) => {
        if (job.kind === DEPLOY_JOB || job.kind.startsWith('build:'))
          await failLostDeploy(
            { store, deps, ...(lostNotify ? { notify: lostNotify } : {}) },
            job.payload as DeployJobPayload,
          );
      },
      worker: name,
      concurrency: o.concurrency,
      leaseMs: o.leaseMs ?? 60_000,
      pollMs: o.pollMs ?? 500,
      sleep: o.sleep,
      clock: o.clock,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const transport = await httpTransport(Math.max(4, o.concurrency * 4));
  const agent = rangeAgent(o.server, Math.max(8, o.concurrency * 8));
  // Notifications are only stored and queued here (database and queue); a server, which holds the vault
  // with the targets' URLs and secrets, delivers them.
  const notifier = new Notifier(store, deps, notifyEnqueuer(queue));
  lostNotify = deployNotifications(store, notifier, () => {});
  const handler = deployJobHandler({
    store,
    deps,
    sleep: o.sleep,
    random: o.random,
    transport: async () => transport,
    running: new Map(),
    // A revoked token: this worker stops taking jobs (each would only go back to the queue) and says why.
    access: remoteAccess(o, store, api, name, agent, (err) => {
      if (refused) return;
      refused = err;
      void queue.stop({ timeoutMs: 4000 }).catch(() => {});
      o.onFatal?.(err);
    }),
    labels: o.labels,
    extraTrustedRoots: o.extraTrustedRoots ?? [],
    cancelPollMs: o.pollMs ?? 500,
    // The per-key limit holds across every worker and server: its slots are rows in the shared database.
    keySlots: queueKeySlots(queue),
    notify: lostNotify,
  });
  const build = remoteBuildHandler(o, store, deps, api, name, queue);
  queue.work([DEPLOY_JOB, ...buildKinds], (job) => (buildKinds.includes(job.kind) ? build(job) : handler(job)));
  return {
    name,
    queue,
    async stop(opts = {}) {
      await queue.stop({ timeoutMs: opts.timeoutMs ?? 10_000 });
      await transport.close();
      agent.destroy();
      await store.close();
    },
  };
}
