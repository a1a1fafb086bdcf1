import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Clock, realSleep, type Sleep, seededRandom, systemClock } from '../src/core/clock.js';
import { AscendError } from '../src/core/errors.js';
import type { SimKey } from './auth.js';
import { parseFaults } from './faults.js';
import { HourlyQuota } from './quota.js';
import { applySeed, DEFAULT_SEED, newKeyPair, type SeedInput } from './seed.js';
import { buildServer } from './server.js';
import type { Timeouts } from './server-deps.js';
import { SimClock } from './sim-clock.js';
import { loadSpec } from './spec.js';
import { advanceAll } from './state.js';
import { Store } from './store.js';
import { RateLimiter } from './throttle.js';
import type { UploadConfig } from './upload-config.js';
import { createWebhooks, parseWebhookFaults, type WebhookSender, type Webhooks } from './webhooks/index.js';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  publicUrl?: string;
  /** A seed object, or the path of a seed JSON file. */
  seed?: SeedInput | string;
  stateFile?: string;
  processingSeconds?: number;
  latencyMs?: number;
  bandwidthMBps?: number;
  connectionBandwidthMBps?: number;
  rateLimitPerHour?: number;
  /** Length of the rolling rate-limit window (Apple: 3600 s); shorter in tests. */
  rateWindowSeconds?: number;
  faults?: string;
  faultSeed?: number;
  /** Seconds each review stage (beta review, App Review) takes; default: processingSeconds. */
  reviewSeconds?: number;
  /** Size of each upload operation (Apple's are about 5 MB). */
  partSizeBytes?: number;
  /** How long reserved upload operations stay valid. */
  uploadExpirySeconds?: number;
  /** Where received upload bytes are kept until processed (default: a temporary folder removed on close). */
  dataDir?: string;
  /** Refuse every `sourceFileChecksums` at commit with the 409 Apple was seen answering (docs/SIMULATOR.md). */
  refuseChecksums?: boolean;
  /** The simulator's "now" for resources (ISO date; `--clock`); tokens are still checked against `clock`. */
  simNow?: string;
  /** Bounds on slow clients (defaults: 120 s per request, 60 s socket inactivity, 15 s part body idle). */
  requestTimeoutSeconds?: number;
  connectionTimeoutSeconds?: number;
  bodyIdleTimeoutSeconds?: number;
  clock?: Clock;
  log?: (line: string) => void;
  /** `drop=P,duplicate=P,delay=MS[:P],reorder=P` for webhook deliveries, drawn from `faultSeed` (webhooks/faults.ts). */
  webhookFaults?: string;
  /** Where webhook deliveries go (default: real HTTP POSTs); tests pass a recorder. */
  webhookSender?: WebhookSender;
  /** How often a listening simulator sends deliveries that fell due (retries, delays); default 1000 ms. */
  webhookTickMs?: number;
  /** The sleep of that loop (default: real timers). */
  sleep?: Sleep;
}

export interface CreatedKey {
  keyId: string;
  issuerId: string | undefined;
  privateKeyPem: string;
}

export interface Simulator {
  readonly app: FastifyInstance;
  readonly store: Store;
  /** The simulator's "now" for resources; `set(iso)` and `advance(seconds)` move it. */
  readonly simClock: SimClock;
  readonly stats: Map<string, number>;
  /** Webhook deliveries: `pump()` sends what is due, `idle()` waits for those in flight. */
  readonly webhooks: Webhooks;
  /** Resolves when every part received so far has been hashed into its file's digests. */
  hashing(): Promise<void>;
  /** Hashes of the distinct tokens accepted so far. */
  readonly tokensSeen: Set<string>;
  /** Set after `listen()`. */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
  /** Makes a key for a seeded team (default: the first) and returns its private half. */
  createKey(opts?: { role?: string; team?: string; individual?: boolean }): CreatedKey;
  revokeKey(keyId: string): void;
}

function randomKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('');
}

const MB = 1_000_000;

function uploadConfig(options: SimulatorOptions, dataDir: string, secret: Buffer, seedRefuses: boolean): UploadConfig {
  return {
    dataDir,
    partSize: options.partSizeBytes ?? 5 * 1024 * 1024,
    processingMs: (options.processingSeconds ?? 2) * 1000,
    reviewMs: (options.reviewSeconds ?? options.processingSeconds ?? 2) * 1000,
    uploadExpiryMs: (options.uploadExpirySeconds ?? 7 * 86_400) * 1000,
    secret,
    bandwidth: options.bandwidthMBps ? new RateLimiter(options.bandwidthMBps * MB) : undefined,
    connectionBytesPerSecond: options.connectionBandwidthMBps ? options.connectionBandwidthMBps * MB : undefined,
    refuseChecksums: options.refuseChecksums ?? seedRefuses,
    hashers: new Map(),
  };
}

function timeouts(options: SimulatorOptions): Timeouts {
  return {
    requestMs: (options.requestTimeoutSeconds ?? 120) * 1000,
    connectionMs: (options.connectionTimeoutSeconds ?? 60) * 1000,
    bodyIdleMs: (options.bodyIdleTimeoutSeconds ?? 15) * 1000,
  };
}

/** The simulator's resource clock, started at `--clock` when given. */
function simClockFor(clock: Clock, simNow: string | undefined): SimClock {
  const simClock = new SimClock(clock);
  if (simNow === undefined) return simClock;
  if (Number.isNaN(Date.parse(simNow)) || !/^\d{4}-\d\d-\d\dT/.test(simNow))
    throw new AscendError('USAGE', `--clock ${simNow} is not an ISO date such as 2027-01-31T12:00:00Z`);
  simClock.set(simNow);
  return simClock;
}

/** Builds the simulator without listening (for in-process `inject()` tests); `listen()` opens the port. */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const clock = options.clock ?? systemClock;
  const simClock = simClockFor(clock, options.simNow);
  const seedInput: SeedInput =
    typeof options.seed === 'string'
      ? (JSON.parse(readFileSync(options.seed, 'utf8')) as SeedInput)
      : (options.seed ?? DEFAULT_SEED);
  const seeded = applySeed(seedInput, simClock, options.stateFile);
  const store = (options.stateFile && Store.load(options.stateFile)) || seeded.store;
  const stats = new Map<string, number>();
  const tokensSeen = new Set<string>();
  const log = options.log ?? (() => {});
  const ownDataDir = options.dataDir === undefined;
  // Made on the first reservation (upload-files.ts), so a simulator that never receives bytes leaves nothing.
  const dataDir = options.dataDir ?? join(tmpdir(), `ascend-sim-data-${randomBytes(8).toString('hex')}`);
  const uploads = uploadConfig(options, dataDir, store.secret, seeded.refuseChecksums);
  const webhooks = createWebhooks({
    store,
    clock: simClock,
    log,
    send: options.webhookSender,
    // Their own stream of the seed, so webhook faults replay whatever the request faults drew.
    random: options.faultSeed !== undefined ? seededRandom(options.faultSeed) : Math.random,
    faults: parseWebhookFaults(options.webhookFaults),
  });
  const ticker = new AbortController();
  const app = buildServer({
    spec: loadSpec(),
    store,
    clock,
    simClock,
    random: options.faultSeed !== undefined ? seededRandom(options.faultSeed) : Math.random,
    roleRules: seeded.roleRules,
    quota: new HourlyQuota(options.rateLimitPerHour ?? 3600, clock, (options.rateWindowSeconds ?? 3600) * 1000),
    faults: parseFaults(options.faults),
    latencyMs: options.latencyMs ?? 0,
    publicUrl: options.publicUrl,
    log,
    stats,
    tokensSeen,
    uploads,
    timeouts: timeouts(options),
    webhooks,
  });
  const sim: Simulator = {
    app,
    store,
    simClock,
    webhooks,
    async hashing() {
      await Promise.all([...uploads.hashers.values()].map((h) => h.idle()));
    },
    stats,
    tokensSeen,
    url: options.publicUrl ?? '',
    async listen() {
      const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
      const u = new URL(address);
      if (u.hostname === '0.0.0.0' || u.hostname === '::') u.hostname = '127.0.0.1';
      sim.url = (options.publicUrl ?? u.toString()).replace(/\/+$/, '');
      // Processing and review end by time alone; with a webhook to tell, that must not wait for a request.
      void webhooks.run(options.sleep ?? realSleep, options.webhookTickMs ?? 1000, ticker.signal, () => {
        if (advanceAll({ store, simClock, uploads })) store.save();
      });
      return sim.url;
    },
    async close() {
      ticker.abort();
      await app.close();
      await sim.hashing();
      await webhooks.idle();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    createKey(opts = {}) {
      const team = opts.team ? store.teams.get(opts.team) : [...store.teams.values()][0];
      if (!team) throw new Error(`no team ${opts.team ?? ''}`);
      const { privateKeyPem, publicKeyPem } = newKeyPair();
      const key: SimKey = {
        keyId: randomKeyId(),
        issuerId: opts.individual ? undefined : team.issuerId,
        teamId: team.id,
        role: opts.role ?? 'APP_MANAGER',
        publicKeyPem,
        revoked: false,
      };
      store.keys.set(key.keyId, key);
      store.save();
      return { keyId: key.keyId, issuerId: key.issuerId, privateKeyPem };
    },
    revokeKey(keyId) {
      const k = store.keys.get(keyId);
      if (k) k.revoked = true;
      store.save();
    },
  };
  return sim;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = createSimulator(options);
  await sim.listen();
  return sim;
}

/** Writes a key as fastlane's API-key JSON, owner-only. */
export function writeKeyFile(path: string, key: CreatedKey): void {
  const json = {
    key_id: key.keyId,
    ...(key.issuerId ? { issuer_id: key.issuerId } : {}),
    key: key.privateKeyPem,
    in_house: false,
  };
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only to a new file: an existing one keeps its bits unless they are set.
  chmodSync(path, 0o600);
}
