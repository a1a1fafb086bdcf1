import { constants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
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
import { MONITOR_EVERY_MS, MONITOR_JOB, monitorJobHandler, scheduleMonitor } from './monitor/job.js';
import { TableJobQueue } from './queue/table-queue.js';
import { openServerStorage, type ServerStorage } from './storage.js';
import { ArtifactFiles } from './store/artifact-files.js';
import { systemDeps } from './store/ids.js';
import { startWebhookRuntime, type WebhookRuntime } from './webhooks/runtime.js';
import { DEPLOY_JOB, deployJobHandler } from './worker/deploy-job.js';

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
}

export interface Service {
  readonly app: FastifyInstance;
  readonly storage: ServerStorage;
  readonly queue: TableJobQueue;
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
  queue: TableJobQueue,
  running: Map<string, AbortController>,
  pollMs: number,
  sleep: Sleep,
): DeployControl {
  return {
    enqueue: (payload) => queue.enqueue(DEPLOY_JOB, payload, { maxAttempts: 5 }),
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
  const clients = new AscClients({ baseUrl: o.apiUrl, clock, sleep });
  const files = new ArtifactFiles(join(o.dataDir, 'artifacts'), deps.randomBytes);
  const transport = await httpTransport(4);
  const queue = new TableJobQueue(store, deps, {
    worker: `${hostname()}:${process.pid}:embedded`,
    concurrency: Math.max(o.workers, 1),
    leaseMs: 60_000,
    pollMs: o.pollMs ?? 500,
    sleep,
    retryDelayMs: (n) => Math.min(60_000, 1000 * 2 ** n),
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
    deploys: deployControl(queue, running, o.pollMs ?? 500, sleep),
    hooks: webhooks.receiver,
    ...(o.publicUrl
      ? { webhookRegistration: { publicUrl: o.publicUrl, graceMs: o.webhookGraceMs ?? 86_400_000 } }
      : {}),
  };
  const app = buildApi(ctx, o.log ? { log: o.log } : {});
  const everyMs = o.monitorEveryMs ?? MONITOR_EVERY_MS;
  if (o.workers > 0) {
    const monitor = monitorJobHandler(ctx, queue, everyMs, (keyRef, err) =>
      app.log.warn({ keyRef, code: err instanceof AscendError ? err.code : 'INTERNAL' }, 'monitor check failed'),
    );
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
      extraTrustedRoots: o.extraTrustedRoots ?? [],
      waiter: webhooks.waiter,
    });
    // One set of worker loops for both kinds: the hourly sweep is one short job among deploys.
    queue.work([DEPLOY_JOB, MONITOR_JOB], (job) => (job.kind === MONITOR_JOB ? monitor(job) : deploy(job)));
    // The first sweep waits a minute: a restart loop must not turn into a loop of checks against Apple.
    if (everyMs > 0) await scheduleMonitor(store, queue, clock.now() + Math.min(everyMs, 60_000));
  }
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
