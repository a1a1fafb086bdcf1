import { constants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Clock, type Random, realSleep, type Sleep, systemClock } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { httpTransport } from '../upload/engine.js';
import { LoginLimiter } from './accounts/login-limiter.js';
import { buildApi } from './api/app.js';
import type { ApiContext, AppleGateway, DeployControl } from './api/context.js';
import { AscClients } from './apple/clients.js';
import { ascGateway } from './apple/gateway.js';
import { ipaInspector } from './apple/inspector.js';
import { dbRateBudget } from './apple/rate-budget.js';
import {
  MONITOR_EVERY_MS,
  MONITOR_JOB,
  MONITOR_KEY_JOB,
  monitorJobHandler,
  monitorKeyJobHandler,
  scheduleMonitor,
} from './monitor/job.js';
import { deployNotifications } from './notify/deploy-events.js';
import { notifyJobHandler, type RetryPolicy } from './notify/job.js';
import { NOTIFY_JOB, Notifier, notifyEnqueuer, requeueOrphanedDeliveries } from './notify/notifier.js';
import { httpPost, type Post } from './notify/post.js';
import { openJobQueue } from './queue/open.js';
import type { JobQueue } from './queue/types.js';
import { openServerStorage, type ServerStorage } from './storage.js';
import { ArtifactFiles } from './store/artifact-files.js';
import { getDeploy } from './store/deploys.js';
import { systemDeps } from './store/ids.js';
import { startWebhookRuntime, type WebhookRuntime } from './webhooks/runtime.js';
import { localArtifactSink } from './worker/artifact-sink.js';
import { artifactUrlKeys } from './worker/artifact-urls.js';
import { buildJobHandler, vaultBuildEnv } from './worker/build-job.js';
import { BuildLogFiles } from './worker/build-log-files.js';
import { buildJobKind, type StoredBuild, workerBuildKinds } from './worker/build-spec.js';
import {
  DEPLOY_JOB,
  type DeployJobPayload,
  deployJobHandler,
  failLostDeploy,
  queueKeySlots,
  runOf,
} from './worker/deploy-job.js';

export interface ServiceOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  masterKey?: string | undefined;
  previousMasterKey?: string | undefined;
  /** App Store Connect (or the sandbox simulator) for routes and workers. */
  apiUrl: string;
  /** In-process deploy workers; 0 runs none (another process works the queue). */
  workers: number;
  publicUrl?: string | undefined;
  /** How long a rotated webhook secret is still accepted (default a day: Apple retries deliveries for hours). */
  webhookGraceMs?: number;
  /** On PostgreSQL, how often a waiting deploy asks the database for events taken by other processes. */
  webhookWakeCheckMs?: number;
  maxArtifactBytes?: number;
  clock?: Clock;
  sleep?: Sleep;
  random?: Random;
  /** Receives pino's JSON lines (redacted); none when absent. */
  log?: { write(line: string): void };
  /** Tests replace Apple's gateway; by default it is src/asc against apiUrl. */
  apple?: AppleGateway;
  pollMs?: number;
  /** How often the monitor checks every key (default hourly); 0 schedules no check (another process does). */
  monitorEveryMs?: number;
  /** SHA-256 fingerprints of roots trusted beside Apple's for profiles (the sandbox's sample root). */
  extraTrustedRoots?: readonly string[];
  /**
   * Notification targets may be http and loopback/private/link-local addresses (default: https to public
   * addresses only, against SSRF). For tests and installs whose receivers live on the same private network.
   */
  allowPrivateNotifyTargets?: boolean;
  /** Time for one notification attempt (default 10 s). */
  notifyTimeoutMs?: number;
  /** Notification retries (default: 6 attempts, 10 s doubling to 1 h, with jitter). */
  notifyRetry?: RetryPolicy;
  /** Tests may replace how a notification is sent; by default node:http(s) under the address policy. */
  notifyPost?: Post;
  /**
   * Labels of the in-process worker: it runs the build steps needing a subset of them (worker/build-spec.ts).
   * Absent, it runs none: a build command runs as the server's user and could read its data folder.
   */
  workerLabels?: readonly string[] | undefined;
  /** The environment build commands start from (PATH, HOME, LANG…), never the server's whole environment. */
  buildEnv?: Readonly<Record<string, string>>;
  /** Where build steps get their fresh folders; the system's temporary folder by default. */
  buildDir?: string;
  /** Between SIGTERM and SIGKILL of a stopped build. */
  buildGraceMs?: number;
  /** Under `--sandbox`: the folder of its second key and sample build, shown by the dashboard. */
  sandboxDir?: string;
}

export interface Service {
  readonly app: FastifyInstance;
  readonly storage: ServerStorage;
  readonly queue: JobQueue;
  readonly clients: AscClients;
  /** Incoming webhooks: the event queue loop, the wake-ups of waiting deploys. */
  readonly webhooks: WebhookRuntime;
  /** Listens; PORT_IN_USE when the port is taken. */
  listen(host: string, port: number): Promise<string>;
  /** Stops taking requests and jobs, lets running steps reach a safe point, closes the database. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

/** The data folder is created if missing and must take a file; otherwise one clear error before anything starts. */
async function assertWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'error';
    throw new AscendError('DATA_DIR_NOT_WRITABLE', `the data folder ${dir} cannot be written (${code})`, { cause });
  }
}

/** Deploy routes' reach into this process: the queue, and the abort handles of the deploys running here. */
function deployControl(
  queue: JobQueue,
  running: Map<string, AbortController>,
  pollMs: number,
  sleep: Sleep,
  logFiles: BuildLogFiles,
): DeployControl {
  return {
    buildLog: (id) => logFiles.open(id),
    enqueue: (payload) => queue.enqueue(DEPLOY_JOB, payload, { maxAttempts: 5 }),
    // A build that a shutdown interrupted is built afresh; three tries, as it re-runs the whole command.
    enqueueBuild: (payload, labels) => queue.enqueue(buildJobKind(labels), payload, { maxAttempts: 3 }),
    hasLiveJob: async (d) => {
      const kinds = [DEPLOY_JOB];
      if (d.build && !d.artifactId) kinds.push(buildJobKind((d.build as unknown as StoredBuild).labels));
      for (const kind of kinds) {
        const live = (await queue.livePayloads(kind)) as Partial<DeployJobPayload>[];
        if (live.some((p) => p?.deployId === d.id && (p.run ?? 0) === runOf(d))) return true;
      }
      return false;
    },
    cancel: (id) => {
      const c = running.get(id);
      c?.abort(new AscendError('INTERRUPTED', 'the deploy was cancelled'));
      return Boolean(c);
    },
    pollMs,
    sleep,
  };
}

/** The whole server in one process (DESIGN §3.5): storage, the API, the embedded queue and its workers. */
export async function createService(o: ServiceOptions): Promise<Service> {
  const clock = o.clock ?? systemClock;
  const sleep = o.sleep ?? realSleep;
  // Bad worker labels are refused before anything is opened.
  const buildKinds = o.workerLabels ? workerBuildKinds(o.workerLabels) : [];
  await assertWritable(o.dataDir);
  const storage = await openServerStorage({
    dataDir: o.dataDir,
    databaseUrl: o.databaseUrl,
    masterKey: o.masterKey,
    previousMasterKey: o.previousMasterKey,
    createMasterKey: true,
    deps: { clock, randomBytes: systemDeps.randomBytes },
  });
  const { store, vault, deps } = storage;
  // Several processes share a PostgreSQL database and so one rate budget per key; alone on SQLite, memory does.
  const clients = new AscClients({
    baseUrl: o.apiUrl,
    clock,
    sleep,
    ...(store.dialect === 'postgres' ? { sharedBudget: (keyId: string) => dbRateBudget(store, clock, keyId) } : {}),
  });
  const files = new ArtifactFiles(join(o.dataDir, 'artifacts'), deps.randomBytes);
  const transport = await httpTransport(4);
  // A deploy whose job the queue gives up on is failed (WORKER_LOST); set once the notifier exists below.
  let lostDeploy: ((payload: unknown) => Promise<void>) | undefined;
  // pg-boss on PostgreSQL, the jobs table on SQLite (docs/SERVER.md, "Scaling out").
  const queue = await openJobQueue(store, deps, {
    onGiveUp: async (job) => {
      if (job.kind === DEPLOY_JOB || job.kind.startsWith('build:')) await lostDeploy?.(job.payload);
    },
    // Unique per queue: leases are matched by this name, and tests run two services in one process.
    worker: `${hostname()}:${process.pid}:embedded:${deps.randomBytes(4).toString('hex')}`,
    concurrency: o.workers,
    pollMs: o.pollMs ?? 500,
    sleep,
    clock,
  }).catch(async (err: unknown) => {
    await transport.close();
    await storage.close();
    throw err;
  });
  const running = new Map<string, AbortController>();
  const apple = o.apple ?? ascGateway(clients, clock);
  const webhooks = startWebhookRuntime({
    store,
    vault,
    deps,
    clock,
    sleep,
    ...(apple.webhooks ? { apple: apple.webhooks } : {}),
    ...(o.webhookWakeCheckMs ? { crossProcessCheckMs: o.webhookWakeCheckMs } : {}),
    // The event still wakes its waiters, whose polls read Apple with their own retries.
    onReadError: (eventRef, err) =>
      app.log.warn({ eventRef, code: err instanceof AscendError ? err.code : 'INTERNAL' }, 'webhook re-read failed'),
  });
  const policy = { allowPrivate: o.allowPrivateNotifyTargets ?? false };
  const enqueueNotify = notifyEnqueuer(queue);
  const notifier = new Notifier(store, deps, enqueueNotify);
  const logFiles = new BuildLogFiles(join(o.dataDir, 'build-logs'));
  const ctx: ApiContext = {
    store,
    vault,
    deps,
    limiter: new LoginLimiter(clock),
    secureCookies: (o.publicUrl ?? '').startsWith('https:'),
    queue: { name: queue.name, workers: () => o.workers },
    apple,
    artifacts: {
      files,
      maxBytes: o.maxArtifactBytes ?? 4 * 1024 ** 3,
      inspect: ipaInspector(() => new Date(clock.now()), o.extraTrustedRoots ?? []),
    },
    hooks: webhooks.receiver,
    ...(o.publicUrl
      ? { webhookRegistration: { publicUrl: o.publicUrl, graceMs: o.webhookGraceMs ?? 86_400_000 } }
      : {}),
    deploys: deployControl(queue, running, o.pollMs ?? 500, sleep, logFiles),
    notify: { notifier, policy },
    ...(o.sandboxDir ? { sandbox: { dir: o.sandboxDir } } : {}),
    worker: { urlKeys: artifactUrlKeys(storage.keyring), jwtLifetimeS: 600, lease: (id) => queue.lease(id) },
  };
  const app = buildApi(ctx, o.log ? { log: o.log } : {});
  const everyMs = o.monitorEveryMs ?? MONITOR_EVERY_MS;
  const codeOf = (err: unknown) => (err instanceof AscendError ? err.code : 'INTERNAL');
  const m = { ...ctx, notifier };
  const sweep = monitorJobHandler(m, queue, everyMs);
  const checkOne = monitorKeyJobHandler(m, (keyRef, err) =>
    app.log.warn({ keyRef, code: codeOf(err) }, 'monitor check failed'),
  );
  const notify = notifyJobHandler({
    store,
    vault,
    deps,
    post: o.notifyPost ?? httpPost(policy, sleep, o.notifyTimeoutMs ?? 10_000),
    random: o.random ?? Math.random,
    enqueue: enqueueNotify,
    ...(o.notifyRetry ? { retry: o.notifyRetry } : {}),
  });
  const deployNotify = deployNotifications(store, notifier, (err) =>
    app.log.warn({ code: codeOf(err) }, 'deploy notification not stored'),
  );
  lostDeploy = (payload) => failLostDeploy({ store, deps, notify: deployNotify }, payload as DeployJobPayload);
  const deploy = deployJobHandler({
    store,
    vault,
    deps,
    clients,
    files,
    sleep,
    random: o.random ?? Math.random,
    transport: async () => transport,
    running,
    cancelPollMs: o.pollMs ?? 1000,
    keySlots: queueKeySlots(queue),
    extraTrustedRoots: o.extraTrustedRoots ?? [],
    waiter: webhooks.waiter,
    notify: deployNotify,
  });
  const labels = o.workerLabels;
  const build = buildJobHandler({
    store,
    envValues: vaultBuildEnv(vault),
    deps,
    sleep,
    tempRoot: o.buildDir ?? tmpdir(),
    baseEnv: o.buildEnv ?? {},
    artifacts: localArtifactSink({
      store,
      deps,
      files,
      maxBytes: ctx.artifacts.maxBytes,
      inspect: ctx.artifacts.inspect,
    }),
    // The deploy job carries the run generation the build ran for (the build job passes none of its own).
    enqueueDeploy: async (payload) =>
      ctx.deploys!.enqueue({ ...payload, run: runOf(await getDeploy(store, payload.teamId, payload.deployId)) }),
    running,
    cancelPollMs: o.pollMs ?? 1000,
    logFiles,
    worker: `${hostname()} (${labels?.join(', ') || 'no labels'})`,
    ...(o.buildGraceMs === undefined ? {} : { graceMs: o.buildGraceMs }),
  });
  // `--workers 0` runs no deploy or build here (workers elsewhere do); see the loops below.
  if (o.workers > 0)
    queue.work([DEPLOY_JOB, ...buildKinds], (job) => (buildKinds.includes(job.kind) ? build(job) : deploy(job)));
  // Short jobs get loops of their own: a "deploy started" must not wait for the deploys that fill the others.
  // They need the vault (keys, notification targets), which only a server opens, so every server runs them,
  // `--workers 0` included: remote workers never hold the master key.
  const short = { [MONITOR_JOB]: sweep, [MONITOR_KEY_JOB]: checkOne, [NOTIFY_JOB]: notify };
  await requeueOrphanedDeliveries(store, queue, enqueueNotify);
  queue.work(Object.keys(short), (job) => short[job.kind as keyof typeof short](job), { concurrency: 2 });
  // The first sweep waits a minute: a restart loop must not turn into a loop of checks against Apple.
  if (everyMs > 0) await scheduleMonitor(queue, clock.now() + Math.min(everyMs, 60_000));
  return {
    app,
    storage,
    queue,
    clients,
    webhooks,
    async listen(host, port) {
      try {
        return await app.listen({ host, port });
      } catch (err) {
        if ((err as { code?: string }).code === 'EADDRINUSE')
          throw new AscendError('PORT_IN_USE', `port ${port} on ${host} is already in use`, { cause: err });
        throw err;
      }
    },
    async close(opts = {}) {
      await app.close();
      await queue.stop({ timeoutMs: opts.timeoutMs ?? 10_000 });
      await webhooks.stop({ timeoutMs: opts.timeoutMs ?? 10_000 });
      await transport.close();
      await storage.close();
    },
  };
}
