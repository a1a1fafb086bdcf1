import type { Clock, Random } from '../src/core/clock.js';
import type { FaultPlan } from './faults.js';
import type { HourlyQuota } from './quota.js';
import type { RoleRule } from './roles.js';
import type { SimClock } from './sim-clock.js';
import type { Spec } from './spec.js';
import type { Store } from './store.js';
import type { UploadConfig } from './upload-config.js';
import type { Webhooks } from './webhooks/index.js';

export interface ServerDeps {
  spec: Spec;
  store: Store;
  /** The injected clock: tokens and the hourly quota run on it. */
  clock: Clock;
  /** The simulator's "now" for resources (`--clock`, `POST /__sim/clock`). */
  simClock: SimClock;
  random: Random;
  roleRules: RoleRule[];
  quota: HourlyQuota;
  faults: FaultPlan[];
  latencyMs: number;
  publicUrl?: string;
  log: (line: string) => void;
  /** Counts requests per operation key, for tests and benchmarks (`GET /__sim/stats`). */
  stats: Map<string, number>;
  /** SHA-256 of every distinct token accepted, to measure how often clients mint (never the token itself). */
  tokensSeen: Set<string>;
  uploads: UploadConfig;
  timeouts: Timeouts;
  /** Webhook CRUD, pings, redelivery and deliveries of state changes (simulator/webhooks). */
  webhooks: Webhooks;
}

/** Bounds on slow clients, so a stalled body cannot hold a connection open for minutes. */
export interface Timeouts {
  /** Whole request, headers and body (Fastify `requestTimeout`). */
  requestMs: number;
  /** Socket inactivity (Fastify `connectionTimeout`). */
  connectionMs: number;
  /** A part body that sends nothing for this long is cut off. */
  bodyIdleMs: number;
}
